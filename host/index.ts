/** The library API: `import { Datakit } from 'datakit-wasm'`. */
export { Datakit, DatakitConfigError, Flow, FlowRun, applyHeaderPatch, stderrLogger } from './flow.js';
export { DEFAULT_LIMITS, LimitExceeded, limitHits, resolveLimits } from './limits.js';
export type { Limits, LimitName } from './limits.js';
export type { DatakitOptions, LoadOptions, RunOptions, RunResult, SentRequest } from './flow.js';
export { MemoryProperties } from './properties.js';
export { findDatakitConfigs, parseConfigText, toPluginConfig, ConfigParseError } from './config.js';
export type { FoundConfig } from './config.js';
export { EnvSecretResolver, readEnvSecret, envVariableName } from './secrets/env.js';
export { parseVaultReference, isVaultReference, SecretError } from './secrets/reference.js';
export type { SecretResolver, VaultReference } from './secrets/reference.js';
export type { JqEngine, JqCompiled } from './engine/jq-engine.js';
export { HttpClient } from './engine/http-client.js';
export type { HttpClientOptions, CallRequest, CallResponse, CallTransport, CallDone, CallCancel } from './engine/http-client.js';
export { HOST_ABI_VERSION } from './engine/abi.js';
export { WASM_PATH } from './engine/runtime.js';
export * from './types.js';
