import { readFile } from 'node:fs/promises';
import { parseCommand, positiveInt } from './args.js';
import { Datakit } from '../flow.js';
import type { CallRequest, CallResponse, CallTransport } from '../engine/http-client.js';
import { loadFlowConfig, toRequestInfo, type RequestFile } from './run.js';

const encoder = new TextEncoder();

/** A mock answer: status, headers and a body (non-strings are JSON-encoded). */
interface MockAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** simulated latency in ms */
  delay?: number;
}

/**
 * Answers calls from a file: keys are "METHOD URL", "URL" or a URL prefix
 * ending in "*"; "*" alone answers anything else.
 */
export function mockTransport(mocks: Record<string, MockAnswer>): CallTransport {
  const entries = Object.entries(mocks);
  const find = (req: CallRequest): MockAnswer | undefined => {
    const url = req.url;
    const bare = url.split('?')[0];
    return (
      mocks[`${req.method} ${url}`] ??
      mocks[`${req.method} ${bare}`] ??
      mocks[url] ??
      mocks[bare] ??
      entries.find(([k]) => k.endsWith('*') && k !== '*' && url.startsWith(k.slice(0, -1)))?.[1] ??
      mocks['*']
    );
  };
  return {
    async send(req): Promise<CallResponse> {
      const m = find(req);
      if (!m) throw new Error(`no mock answer for ${req.method} ${req.url}`);
      if (m.delay) await new Promise((r) => setTimeout(r, m.delay));
      const headers: Record<string, string> = { ...(m.headers ?? {}) };
      let body = '';
      if (typeof m.body === 'string') body = m.body;
      else if (m.body !== undefined) {
        body = JSON.stringify(m.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
      return { status: m.status ?? 200, headers, body: encoder.encode(body) };
    },
    async close() {},
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const BENCH_HELP = `usage: datakit bench FLOW [--request REQ.json] [-n N] [-c C] [--mock-calls FILE] [--json]

Runs a flow N times through the library (no HTTP server) and reports the
latency of whole requests and of each node. FLOW as for \`datakit run\`
("-" reads standard input).

options:
  -r, --request FILE   the client request (the \`datakit run\` format)
  -n N                 requests in all (default 1000)
  -c C                 requests in flight at once (default 10)
  --mock-calls FILE    answer call nodes from a JSON file instead of the
                       network. Keys: "METHOD URL", "URL", a URL prefix
                       ending in "*", or "*" for anything else; values:
                       {"status": 200, "headers": {...}, "body": <string or
                       JSON>, "delay": ms}. A call with no answer fails.
  --json               print the report as JSON: {requests, concurrency,
                       seconds, requests_per_second, latency_ms: {median,
                       p99}, failures, failure_messages: {message: count},
                       nodes: [{name, type, runs, median_ms, p99_ms}]}
  -h, --help           this help

Exit 0, or 1 when any request failed.
`;

/** `datakit bench FLOW [--request REQ.json] [-n N] [-c C] [--mock-calls FILE]` */
export async function benchCli(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const parsed = parseCommand(
    {
      help: BENCH_HELP,
      operands: { min: 1, max: 1 },
      options: { request: { type: 'string', short: 'r' }, n: { type: 'string', short: 'n' }, c: { type: 'string', short: 'c' }, 'mock-calls': { type: 'string' }, json: { type: 'boolean' } },
    },
    args,
    out,
    err,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, operands: positionals } = parsed;
  let total: number;
  let concurrency: number;
  try {
    total = positiveInt('-n', values.n, 1000);
    concurrency = positiveInt('-c', values.c, 10);
  } catch (e) {
    err.write(`datakit: ${(e as Error).message}\n`);
    return 2;
  }
  const config = await loadFlowConfig(positionals[0]);
  const reqFile: RequestFile = values.request ? JSON.parse(await readFile(values.request, 'utf8')) : {};
  const transport = values['mock-calls'] ? mockTransport(JSON.parse(await readFile(values['mock-calls'], 'utf8'))) : undefined;
  const dk = await Datakit.create({ transport, logger: { log() {} } });
  try {
    const flow = dk.load(config);
    const perNode = new Map<string, number[]>();
    const latencies: number[] = [];
    let failures = 0;
    const failureMessages = new Map<string, number>();
    let started = 0;
    const request = toRequestInfo(reqFile);
    const upstream = reqFile.upstream
      ? { status: reqFile.upstream.status ?? 200, headers: reqFile.upstream.headers ?? {}, body: typeof reqFile.upstream.body === 'string' ? reqFile.upstream.body : JSON.stringify(reqFile.upstream.body ?? '') }
      : { status: 200, headers: {}, body: '' };

    const one = async () => {
      const t0 = performance.now();
      const run = flow.newRequest(request, undefined, { timings: true });
      try {
        const first = await run.request();
        const timings = [...(first.timings ?? [])];
        let failure = first.action === 'exit' ? first.failure : undefined;
        if (first.action === 'continue' && first.responsePhase) {
          const second = await run.response(upstream);
          timings.push(...(second.timings ?? []));
          if (second.action === 'exit') failure = second.failure;
        }
        for (const t of timings) {
          const list = perNode.get(t.node.name) ?? [];
          list.push(t.ms);
          perNode.set(t.node.name, list);
        }
        if (failure) {
          failures++;
          failureMessages.set(failure.message, (failureMessages.get(failure.message) ?? 0) + 1);
        }
      } catch (e) {
        failures++;
        failureMessages.set((e as Error).message, (failureMessages.get((e as Error).message) ?? 0) + 1);
      } finally {
        run.done();
        latencies.push(performance.now() - t0);
      }
    };
    const t0 = performance.now();
    const worker = async () => {
      while (started < total) {
        started++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const nodes = flow.nodes.map((n) => {
      const list = (perNode.get(n.name) ?? []).sort((a, b) => a - b);
      return { name: n.name, type: n.type, runs: list.length, median_ms: percentile(list, 50), p99_ms: percentile(list, 99) };
    });
    const report = {
      requests: total,
      concurrency,
      seconds: Number(seconds.toFixed(3)),
      requests_per_second: Number((total / seconds).toFixed(1)),
      latency_ms: { median: percentile(latencies, 50), p99: percentile(latencies, 99) },
      failures,
      failure_messages: Object.fromEntries(failureMessages),
      nodes,
    };
    if (values.json) {
      out.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      out.write(`${total} requests, concurrency ${concurrency}, ${seconds.toFixed(2)} s: ${report.requests_per_second} req/s, ` +
        `latency median ${report.latency_ms.median.toFixed(3)} ms, p99 ${report.latency_ms.p99.toFixed(3)} ms, failures ${failures}\n\n`);
      out.write('| node | type | runs | median ms | p99 ms |\n|---|---|---|---|---|\n');
      for (const n of nodes) out.write(`| ${n.name} | ${n.type} | ${n.runs} | ${n.median_ms.toFixed(3)} | ${n.p99_ms.toFixed(3)} |\n`);
      for (const [m, c] of failureMessages) out.write(`\nfailure x${c}: ${m}\n`);
    }
    return failures > 0 ? 1 : 0;
  } finally {
    await dk.close();
  }
}
