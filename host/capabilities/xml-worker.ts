/**
 * Large XML conversions off the event loop. Converting costs about 0.12 ms
 * per KiB of XML (xml_to_json) and about 0.02 ms per KiB of JSON
 * (json_to_xml) on the main thread: a 5 MB document held the event loop for
 * over a second. The engine sends inputs above XML_TO_JSON_WORKER_BYTES /
 * JSON_TO_XML_WORKER_BYTES here (assembly/nodes.ts has the same numbers);
 * smaller ones stay inline, where they cost less than the round trip.
 *
 * At most two workers, started on first use and reused; each runs
 * `runXmlOperation` from xml.ts, the code the inline path runs, so answers
 * are the same bytes. A conversion over `limits.xml_time_ms` stops its
 * worker; a worker that dies fails its conversion only. Either way the next
 * conversion gets a new worker. Idle workers never hold up an exit.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { LimitExceeded, type LimitName, type Limits } from '../limits.js';
import type { XmlOperation } from './xml.js';

/** xml_to_json inputs from this size run in a worker (about 2 ms of parsing inline). */
export const XML_TO_JSON_WORKER_BYTES = 16 * 1024;
/** json_to_xml inputs (JSON text) from this size run in a worker (about 1-2 ms inline). */
export const JSON_TO_XML_WORKER_BYTES = 64 * 1024;

/**
 * The worker: CommonJS source run with `eval`. From dist/ it imports the
 * compiled xml.js; from the TypeScript sources (tests) it has esbuild
 * (vitest's) bundle xml.ts first. Either way it runs the module's own code.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
async function load() {
  if (!workerData.esbuild) return import(workerData.moduleUrl);
  const built = require(workerData.esbuild).buildSync({
    entryPoints: [workerData.modulePath], bundle: true, format: 'cjs', platform: 'node',
    packages: 'external', write: false, logLevel: 'silent',
  });
  const module = { exports: {} };
  new Function('require', 'module', 'exports', built.outputFiles[0].text)(createRequire(workerData.modulePath), module, module.exports);
  return module.exports;
}
const ready = load();
parentPort.on('message', async ({ id, op, data, options, limits }) => {
  let run;
  try {
    run = (await ready).runXmlOperation;
  } catch (e) {
    parentPort.postMessage({ id, error: 'loading the converter failed: ' + String((e && e.message) || e) });
    return;
  }
  try {
    const out = run(op, data, options, limits);
    parentPort.postMessage({ id, data: out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e), limit: e && e.name === 'LimitExceeded' ? e.limit : undefined });
  }
});
`;

interface Reply {
  id: number;
  data?: Uint8Array;
  error?: string;
  limit?: LimitName;
}

/** A request gone away: its conversion is dropped (the engine's CallCancel has this shape). */
export interface ConversionCancel {
  readonly aborted: boolean;
  once(event: 'abort', fn: () => void): unknown;
  off(event: 'abort', fn: () => void): unknown;
}

interface Job {
  id: number;
  op: XmlOperation;
  data: Uint8Array;
  options: Record<string, unknown>;
  limits: Pick<Limits, 'xml_input_bytes' | 'xml_depth' | 'xml_time_ms'>;
  resolve(out: Uint8Array): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  cancel?: ConversionCancel;
  onCancel?: () => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

export interface XmlWorkerPoolOptions {
  /** workers at most (default 2) */
  size?: number;
  /** heap bounds of each worker (default: Node's) */
  resourceLimits?: ResourceLimits;
}

/** Where the worker finds xml.ts / xml.js, next to this module. */
function moduleLocation(): { moduleUrl: string; modulePath: string; esbuild?: string } {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './xml.ts' : './xml.js', import.meta.url);
  return {
    moduleUrl: url.href,
    modulePath: fileURLToPath(url),
    esbuild: fromSources ? createRequire(import.meta.url).resolve('esbuild') : undefined,
  };
}

export class XmlWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private readonly resourceLimits?: ResourceLimits;
  private nextId = 1;
  private closed = false;

  constructor(opts: XmlWorkerPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? 2);
    this.resourceLimits = opts.resourceLimits;
  }

  /** Workers running now (for tests and metrics). */
  get workers(): number {
    return this.slots.length;
  }

  /**
   * Converts in a worker; the answer is what `runXmlOperation` gives inline.
   * `data` is handed over: when it spans its whole buffer, that buffer moves
   * to the worker (it is empty here afterwards).
   */
  convert(op: XmlOperation, data: Uint8Array, options: Record<string, unknown>, limits: Job['limits'], cancel?: ConversionCancel): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error(`${op}: the XML converter was stopped`));
    if (cancel?.aborted) return Promise.reject(new Error(`${op}: canceled`));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, op, data, options, limits, resolve, reject, cancel };
      if (cancel) {
        // waiting: leave the queue; running: stop the worker, whose work nobody will read
        job.onCancel = () => {
          const queued = this.queue.indexOf(job);
          if (queued !== -1) {
            this.queue.splice(queued, 1);
            this.settle(job, new Error(`${op}: canceled`));
            return;
          }
          const slot = this.slots.find((s) => s.job === job);
          if (slot) this.lose(slot, new Error(`${op}: canceled`));
        };
        cancel.once('abort', job.onCancel);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Stops the workers; conversions running or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error(`${job.op}: the XML converter was stopped`));
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.job) this.settle(s.job, new Error(`${s.job.op}: the XML converter was stopped`));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.start();
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      job.timer = setTimeout(() => {
        // a runaway conversion: only stopping the thread ends it
        this.lose(slot, new LimitExceeded('xml_time_ms', `${job.op}: conversion exceeded its ${job.limits.xml_time_ms} ms budget (limits.xml_time_ms)`));
      }, job.limits.xml_time_ms);
      const limits = { xml_input_bytes: job.limits.xml_input_bytes, xml_depth: job.limits.xml_depth };
      // a view over a whole buffer is handed over, not copied (5 MB took ~10 ms to clone)
      const whole = job.data.byteOffset === 0 && job.data.byteLength === job.data.buffer.byteLength && job.data.buffer instanceof ArrayBuffer;
      slot.worker.postMessage({ id: job.id, op: job.op, data: job.data, options: job.options, limits }, whole ? [job.data.buffer as ArrayBuffer] : []);
    }
  }

  private start(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: moduleLocation(), resourceLimits: this.resourceLimits });
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = undefined;
      if (reply.data) this.settle(job, reply.data);
      else if (reply.limit) this.settle(job, new LimitExceeded(reply.limit, reply.error ?? 'limit exceeded'));
      else this.settle(job, new Error(reply.error ?? `${job.op} failed`));
      if (this.queue.length === 0) worker.unref();
      this.dispatch();
    });
    worker.on('error', (e) => this.lose(slot, new Error(`${slot.job?.op ?? 'xml'}: the XML conversion worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.lose(slot, new Error(`${slot.job?.op ?? 'xml'}: the XML conversion worker exited (code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  /** The slot's worker died or is being stopped: its conversion fails, later ones get a new worker. */
  private lose(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i === -1) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (slot.job) this.settle(slot.job, err);
    slot.job = undefined;
    this.dispatch();
  }

  private settle(job: Job, outcome: Uint8Array | Error): void {
    clearTimeout(job.timer);
    if (job.onCancel) job.cancel!.off('abort', job.onCancel);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}
