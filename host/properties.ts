import type { PropertyProvider, RequestInfo } from './types.js';

/**
 * A self-contained property store for running flows outside a gateway
 * (library use, `datakit run`): request facts are readable, any property
 * can be preset, and what the flow sets is recorded in `changes`.
 */
export class MemoryProperties implements PropertyProvider {
  readonly values = new Map<string, unknown>();
  /** properties the flow set, in order */
  readonly changes: Record<string, unknown> = {};

  constructor(request?: RequestInfo, preset: Record<string, unknown> = {}) {
    if (request) {
      this.values.set('kong.request.port', request.port ?? null);
      this.values.set('kong.client.protocol', request.scheme ?? 'http');
      this.values.set('kong.nginx.subsystem', 'http');
    }
    for (const [k, v] of Object.entries(preset)) this.values.set(k, v);
  }

  get(name: string): unknown {
    return this.values.get(name);
  }

  set(name: string, value: unknown): void {
    // which properties are writable is the engine's call (rejected at configure time)
    if (name === 'kong.service.target' && (typeof value !== 'string' || !/^[^\s:]+(:\d{1,5})?$/.test(value)))
      throw new Error(`invalid target "${String(value)}": expected host:port`); // the gateway's wording (docs/host-abi.md)
    if (name === 'kong.response.status' && !(Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599))
      throw new Error(`invalid status "${String(value)}"`);
    this.values.set(name, value);
    this.changes[name] = value;
  }
}
