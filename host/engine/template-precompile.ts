/**
 * Handlebars' code generation off the event loop. Precompiling costs about
 * 100 µs per tag (0.4 s for a 16 KiB template of `{{a}}` tags); a worker
 * thread does it and hands back the template spec as JavaScript source with
 * V8's code cache for it, so the main thread neither generates nor compiles
 * the code: loading a 16 KiB template's spec takes about 3 ms, where
 * compiling its source would take about 13 ms, plus 35 ms more on the first
 * render.
 *
 * One worker, started on first use, restarted when it dies or is stopped for
 * running over its time. It keeps the process alive only while it has work,
 * so an idle pool never holds up an exit.
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';

const SPEC_FILENAME = 'handlebars-template.js';

/**
 * The worker: CommonJS source run with `eval`, so it loads the same way from
 * host/*.ts (tests) and dist/. Each program of the spec is called once with
 * no arguments, so that V8 compiles it and the code cache holds it: generated
 * code has no loops of its own, and each program stops at its first use of
 * the container or the context it was not given.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const env = require(workerData.handlebars).create();
parentPort.on('message', ({ source, options }) => {
  let spec;
  try {
    spec = env.precompile(source, options);
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
    return;
  }
  let cache;
  try {
    const script = new vm.Script('(' + spec + ')', { filename: workerData.filename });
    const programs = script.runInThisContext();
    for (const k of Object.keys(programs)) {
      if (typeof programs[k] !== 'function') continue;
      try {
        programs[k]();
      } catch {}
    }
    cache = script.createCachedData();
  } catch {}
  parentPort.postMessage({ spec, cache });
});
`;

/** A spec from the worker, as the object `env.template` takes; the code cache spares V8 compiling it again. */
export function loadSpec(spec: string, cache?: Uint8Array): unknown {
  return new vm.Script(`(${spec})`, { filename: SPEC_FILENAME, cachedData: cache }).runInThisContext();
}

/** The spec's source, or the template's own error (syntax), which the caller reports as it always has. */
export type PrecompileResult = { spec: string; cache?: Uint8Array } | { error: string };

/** The pool could not precompile: the template took too long, the worker died, or too many wait. */
export class PrecompileError extends Error {
  constructor(
    readonly reason: 'timeout' | 'crashed' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'PrecompileError';
  }
}

interface Job {
  source: string;
  options: object;
  resolve(r: PrecompileResult): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

export interface PoolOptions {
  /** one template's precompilation, from when it is handed to the worker (starting a new worker included) */
  timeoutMs?: number;
  /** templates waiting for the worker; more are refused */
  maxQueue?: number;
}

export class PrecompilePool {
  private worker?: Worker;
  private running?: Job;
  private readonly queue: Job[] = [];
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly handlebars = createRequire(import.meta.url).resolve('handlebars');

  constructor(opts: PoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxQueue = opts.maxQueue ?? 64;
  }

  precompile(source: string, options: object): Promise<PrecompileResult> {
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new PrecompileError('busy', `handlebars: ${this.queue.length} templates are already waiting to compile; retry later`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ source, options, resolve, reject });
      this.next();
    });
  }

  /** Stops the worker; jobs waiting are refused. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const job of this.queue.splice(0)) job.reject(new PrecompileError('crashed', 'handlebars: the template compiler was stopped'));
    this.finish(new PrecompileError('crashed', 'handlebars: the template compiler was stopped'));
    await w?.terminate();
  }

  private next(): void {
    if (this.running) return;
    const job = this.queue.shift();
    if (!job) {
      this.worker?.unref();
      return;
    }
    const w = (this.worker ??= this.start());
    w.ref();
    this.running = job;
    job.timer = setTimeout(() => {
      // stuck in code generation: only stopping the thread ends it
      this.lose(w, new PrecompileError('timeout', `handlebars: compiling the template took longer than ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    job.timer.unref();
    w.postMessage({ source: job.source, options: job.options });
  }

  private start(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { handlebars: this.handlebars, filename: SPEC_FILENAME } });
    w.unref();
    w.on('message', (reply: PrecompileResult) => {
      if (this.worker === w) this.finish(reply);
    });
    w.on('error', (e) => this.lose(w, new PrecompileError('crashed', `handlebars: the template compiler failed: ${e.message}`)));
    w.on('exit', (code) => this.lose(w, new PrecompileError('crashed', `handlebars: the template compiler exited (code ${code})`)));
    return w;
  }

  /** The worker `w` is gone or being stopped: its job fails, a new worker takes the rest. */
  private lose(w: Worker, err: PrecompileError): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    void w.terminate();
    this.finish(err);
  }

  private finish(outcome: PrecompileResult | PrecompileError): void {
    const job = this.running;
    if (!job) return;
    this.running = undefined;
    clearTimeout(job.timer);
    if (outcome instanceof PrecompileError) job.reject(outcome);
    else job.resolve(outcome);
    this.next();
  }
}
