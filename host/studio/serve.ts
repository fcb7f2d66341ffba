/**
 * Serves the flow studio page on a Fastify instance: the page
 * (build/studio/index.html, made by scripts/build-studio.mjs), the engine
 * it runs (build/datakit.wasm), for `datakit studio FLOW.yaml` the flow to
 * open, and a route's debug trace fetched on the page's behalf. The gateway mounts it on the Admin listener, behind the
 * Admin API's own access rules.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

export interface StudioOptions {
  /** the flow's text the page opens with (`GET /studio/flow`); none: the page's starter flow */
  flowText?: () => Promise<string>;
}

/** build/ at the package root, found from this file whether it runs from dist/ or from source. */
function findBuild(file: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', file);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export function studioPagePath(): string | undefined {
  return findBuild(join('studio', 'index.html'));
}

function wasmPath(): string | undefined {
  return process.env.DATAKIT_WASM ?? findBuild('datakit.wasm');
}

export function registerStudio(app: FastifyInstance, opts: StudioOptions = {}): void {
  const page = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const path = studioPagePath();
    if (!path) return reply.code(503).send({ message: 'the studio page is not built: run node scripts/build-studio.mjs' });
    return reply
      .type('text/html; charset=utf-8')
      // script and styles are inline; Handlebars compiles templates with Function; calls may go anywhere (fetch mode)
      .header('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src *")
      .header('Cache-Control', 'no-store')
      .send(await readFile(path));
  };
  app.get('/studio', page);
  app.get('/studio/', page);
  app.get('/studio/datakit.wasm', async (_req, reply) => {
    const path = wasmPath();
    if (!path || !existsSync(path)) return reply.code(503).send({ message: 'build/datakit.wasm is missing: run npm run build:wasm' });
    return reply.type('application/wasm').header('Cache-Control', 'no-store').send(await readFile(path));
  });
  // a route's debug trace, fetched here: the page cannot read another origin's answer (CORS)
  app.get('/studio/trace', async (req, reply) => {
    // a custom header: another site's page cannot send it without a CORS preflight, which fails here
    if (req.headers['x-datakit-studio'] !== '1') return reply.code(403).send({ message: 'X-DataKit-Studio: 1 is required' });
    const { url, method } = req.query as { url?: string; method?: string };
    let target: URL;
    try {
      target = new URL(url ?? '');
    } catch {
      return reply.code(400).send({ message: 'url must be an http(s) URL' });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return reply.code(400).send({ message: 'url must be an http(s) URL' });
    try {
      // bounded like any other outbound exchange: a route that never answers or answers without end cannot hold this
      const res = await fetch(target, {
        method: method ?? 'GET',
        headers: { 'X-DataKit-Debug-Trace': 'true' },
        redirect: 'manual',
        signal: AbortSignal.timeout(TRACE_FETCH_TIMEOUT_MS),
      });
      return reply.code(200).type('application/json').send({ status: res.status, body: await readCapped(res, TRACE_FETCH_MAX_BYTES) });
    } catch (e) {
      return reply.code(502).send({ message: `could not fetch ${target.origin}${target.pathname}: ${(e as Error).message}` });
    }
  });
  app.get('/studio/flow', async (_req, reply) => {
    if (!opts.flowText) return reply.code(404).send({ message: 'no flow given' });
    return reply.type('text/yaml; charset=utf-8').send(await opts.flowText());
  });
}

/**
 * The admin token may also come as `?token=` on the studio's own paths: a
 * browser opening the page cannot send a header (the page then sends it as
 * Kong-Admin-Token on every request it makes).
 */
export function studioToken(url: string): string | undefined {
  if (!/^\/studio(\/|\?|$)/.test(url)) return undefined;
  const q = url.indexOf('?');
  return q < 0 ? undefined : (new URLSearchParams(url.slice(q + 1)).get('token') ?? undefined);
}

/** How long /studio/trace waits for a route's traced answer, and how much of it it reads. */
const TRACE_FETCH_TIMEOUT_MS = 30_000;
const TRACE_FETCH_MAX_BYTES = 16 * 1024 * 1024;

async function readCapped(res: Response, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > max) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`the answer is larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
