/**
 * `datakit studio [FLOW] [--listen HOST:PORT]`: serves the flow studio page
 * on its own (no gateway), opened on FLOW when given. Prints the URL and
 * opens nothing; runs until interrupted.
 */
import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseCommand, UsageError } from './args.js';
import { registerStudio, studioPagePath } from '../studio/serve.js';

export const STUDIO_HELP = `usage: datakit studio [FLOW] [--listen HOST:PORT]

Serves the flow studio: a page that draws a flow, validates its YAML with
the engine on every change, runs it on a sample request (call nodes answer
from canned responses, or go out with fetch) and overlays the result or a
gateway trace on the graph. The page runs build/datakit.wasm itself.
FLOW (a datakit plugin config or plugin entry, YAML or JSON) is what the
page opens with; it is read again on every page load.

options:
  --listen HOST:PORT   where to listen (default 127.0.0.1:8002; port 0 picks a free one)
  -h, --help           this help

Prints the page's URL; opens nothing. A running gateway serves the same
page on its Admin listener at /studio.
`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** The studio server; `url` is the page's address. */
export async function startStudio(opts: { flowFile?: string; listen?: string }): Promise<{ app: FastifyInstance; url: string }> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:8002');
  const app = Fastify({ logger: false });
  const file = opts.flowFile;
  registerStudio(app, file ? { flowText: () => readFile(file, 'utf8') } : {});
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${shownHost}:${bound}/studio` };
}

/** `started` receives the running server (tests close it; the command itself runs until interrupted). */
export async function studioCli(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  started?: (app: FastifyInstance) => void,
): Promise<number | void> {
  const parsed = parseCommand({ help: STUDIO_HELP, operands: { min: 0, max: 1 }, options: { listen: { type: 'string' } } }, args, out, err);
  if (typeof parsed === 'number') return parsed;
  const flowFile = parsed.operands[0];
  try {
    if (flowFile) await readFile(flowFile, 'utf8');
    const listen = parsed.values.listen;
    if (listen !== undefined) parseListen(listen);
    if (!studioPagePath()) err.write('datakit studio: build/studio/index.html is missing (node scripts/build-studio.mjs); the page answers 503 until it is built\n');
    const { app, url } = await startStudio({ flowFile, listen });
    started?.(app);
    const host = new URL(url).hostname;
    if (!LOOPBACK.has(host)) err.write(`datakit studio: listening on ${host}, beyond loopback: anyone who can connect can use the page\n`);
    out.write(`flow studio: ${url}\n`);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`datakit: ${e.message}\n${STUDIO_HELP.split('\n')[0]}\n`);
      return 2;
    }
    err.write(`datakit studio: ${(e as Error).message}\n`);
    return 1;
  }
  // the listening server keeps the process alive until interrupted
}
