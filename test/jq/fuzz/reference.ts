// The reference jq (jq-wasm, jq 1.7.1) behind a worker thread with a
// per-run timeout: a program that loops or aborts inside jq-wasm costs one
// worker, not the fuzzing run.
import { Worker } from 'node:worker_threads';

export type ReferenceResult =
  | { kind: 'done'; stdout: string; stderr: string; truncated: boolean }
  | { kind: 'timeout' }
  | { kind: 'crash'; message: string };

interface Reply {
  id?: number;
  ready?: boolean;
  out?: string;
  err?: string;
  truncated?: boolean;
  crash?: string;
}

export class ReferenceJq {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private pending = new Map<number, (r: ReferenceResult) => void>();
  private nextId = 1;
  restarts = 0;

  constructor(private timeoutMs = 5000) {}

  private start(): Promise<void> {
    const w = new Worker(new URL('./reference-worker.mjs', import.meta.url));
    this.worker = w;
    this.restarts++;
    this.ready = new Promise((resolve, reject) => {
      w.on('message', (m: Reply) => {
        if (m.ready) return resolve();
        const done = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (!done) return;
        this.pending.delete(m.id!);
        done(m.crash !== undefined ? { kind: 'crash', message: m.crash } : { kind: 'done', stdout: m.out ?? '', stderr: m.err ?? '', truncated: !!m.truncated });
      });
      w.on('error', (e) => {
        reject(e);
        for (const [, done] of this.pending) done({ kind: 'crash', message: String(e) });
        this.pending.clear();
        if (this.worker === w) this.worker = null;
      });
      w.on('exit', () => {
        if (this.worker === w) this.worker = null;
      });
    });
    return this.ready;
  }

  async run(input: string, filter: string): Promise<ReferenceResult> {
    if (!this.worker) await this.start();
    else await this.ready;
    const w = this.worker!;
    const id = this.nextId++;
    return new Promise<ReferenceResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (this.worker === w) this.worker = null;
        void w.terminate();
        resolve({ kind: 'timeout' });
      }, this.timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      w.postMessage({ id, input, filter });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
