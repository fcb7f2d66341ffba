// Reference jq (jq-wasm) with instance recycling: one wasm instance aborts after ~314 evaluations,
// so a fresh module instance is created (through the package's Emscripten factory) every RECYCLE calls.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Instance = { raw(input: string, filter: string, flags: string[]): Promise<string> };
type Factory = () => Promise<Instance>;

export const RECYCLE = 250;

export class ReferenceJq {
  private factory: Factory;
  private instance: Instance | null = null;
  private calls = 0;
  recycles = 0;
  /** time spent creating instances (ms), excluded from benchmarks */
  recycleMs = 0;

  constructor() {
    this.factory = require('jq-wasm/dist/build/jq.js') as Factory;
  }

  async ensure(): Promise<Instance> {
    if (!this.instance || this.calls >= RECYCLE) {
      const t = performance.now();
      this.instance = await this.factory();
      this.recycleMs += performance.now() - t;
      this.calls = 0;
      this.recycles++;
    }
    return this.instance;
  }

  /** Runs jq; returns the compact output lines or throws an Error with jq's stderr text. */
  async run(input: string, filter: string, flags: string[] = ['-c']): Promise<string[]> {
    const inst = await this.ensure();
    this.calls++;
    const out = await inst.raw(input, filter, flags);
    return out === '' ? [] : out.replace(/\n$/, '').split('\n');
  }
}
