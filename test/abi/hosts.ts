/**
 * Adapters of the conformance kit (runner.ts) for the two hosts of this
 * repository: the library (host/flow.ts, in process) and the minimal host
 * (examples/minimal-host.mjs, spawned as a user would run it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Datakit, DatakitConfigError } from '../../host/flow.js';
import { EnvSecretResolver } from '../../host/secrets/env.js';
import { MemoryProperties } from '../../host/properties.js';
import { bodyOut, toRequestInfo, toUpstream } from '../../host/cli/run.js';
import type { HostAdapter, HostInput, HostResult } from './runner.js';

const quiet = { log() {} };

/** The library host: Datakit.create / load / flow.run, properties in memory. */
export function libraryHost(): HostAdapter {
  return {
    name: 'library (host/flow.ts)',
    capabilities: ['cache', 'jwt_decode', 'jwt', 'xml'],
    async run({ flow, request, env }: HostInput): Promise<HostResult> {
      const dk = await Datakit.create({ logger: quiet, secrets: new EnvSecretResolver(env) });
      try {
        let loaded;
        try {
          loaded = dk.load(flow);
        } catch (e) {
          if (e instanceof DatakitConfigError) return { errors: e.errors as HostResult['errors'] };
          throw e;
        }
        const info = { ...toRequestInfo(request), requestId: request.request_id };
        const properties = new MemoryProperties(info, request.properties ?? {});
        const r = await loaded.run(info, { properties, upstream: toUpstream(request.upstream) });
        const out: HostResult = { status: r.response.status, headers: r.response.headers, body: bodyOut(r.response.body, r.response.headers) };
        const s = r.serviceRequest;
        if (s) out.service_request = { method: s.method, path: s.path, headers: s.headers, query: s.query, body: bodyOut(s.body, s.headers) };
        if (Object.keys(r.properties).length > 0) out.properties = r.properties;
        if (r.failure) out.failure = r.failure;
        return out;
      } finally {
        await dk.close();
      }
    },
  };
}

const MINIMAL_HOST = fileURLToPath(new URL('../../examples/minimal-host.mjs', import.meta.url));

/**
 * Any host as a command: `COMMAND... FLOW.json --request REQ.json` prints
 * the result as JSON on stdout (the environment carries the case's `env`).
 */
export function commandHost(name: string, command: string[], capabilities: readonly string[]): HostAdapter {
  const dir = mkdtempSync(join(tmpdir(), 'dk-host-'));
  let n = 0;
  return {
    name,
    capabilities,
    run({ flow, request, env }: HostInput): Promise<HostResult> {
      const flowFile = join(dir, `flow-${++n}.json`);
      const requestFile = join(dir, `request-${n}.json`);
      writeFileSync(flowFile, JSON.stringify(flow));
      writeFileSync(requestFile, JSON.stringify(request));
      return new Promise((resolve, reject) => {
        execFile(command[0], [...command.slice(1), flowFile, '--request', requestFile], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
          try {
            resolve(JSON.parse(stdout) as HostResult);
          } catch {
            reject(new Error(`${name}: ${error?.message ?? 'no JSON output'}\n${stderr}`));
          }
        });
      });
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The minimal host, spawned as a user runs it. */
export function minimalHost(): HostAdapter {
  return commandHost('examples/minimal-host.mjs', [process.execPath, MINIMAL_HOST], ['cache', 'jwt_decode']);
}
