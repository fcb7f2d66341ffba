/** Constants of the host ABI (docs/host-abi.md). */

export const HOST_ABI_VERSION = 4;

/** Actions returned by dk_on_request / dk_on_http_response / dk_on_response. */
export const enum Action {
  Pause = 0,
  Continue = 1,
  Respond = 2,
  None = 3,
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** The module's exports, as the host sees them. */
export interface EngineExports {
  memory: WebAssembly.Memory;
  dk_abi_version(): number;
  dk_alloc(size: number): number;
  dk_free(ptr: number): void;
  dk_configure(ptr: number, len: number): number;
  dk_plan_free(plan: number): void;
  dk_request_new(plan: number): number;
  dk_on_request(ctx: number, metaPtr: number, metaLen: number, bodyPtr: number, bodyLen: number): number;
  dk_on_http_response(
    ctx: number,
    token: number,
    status: number,
    metaPtr: number,
    metaLen: number,
    bodyPtr: number,
    bodyLen: number,
  ): number;
  dk_on_async_result(ctx: number, token: number, ok: number, ptr: number, len: number): number;
  dk_on_response(ctx: number, metaPtr: number, metaLen: number, bodyPtr: number, bodyLen: number): number;
  dk_done(ctx: number): void;
  dk_stats(): void;
  dk_ping(n: number): number;
  dk_collect(): void;
}
