// The X-DataKit-Debug-Trace report (spec section 7) in Kong's shape: times
// in seconds, each event's values as a list of {key, type, value}, and
// (Kong 3.15) the event's value inline. Values are written with secrets
// and sensitive headers masked.

import { ByteWriter, lowerAscii, overflowed, restoreOverflow, writeLimitBytes } from './bytes';
import { Kind, Value, valueTypeName, writeJsonString, writeNumber } from './json';

export { valueTypeName };
import { monoMs, nowMs } from './host';

export const MASK = '********';

const SENSITIVE_HEADERS: string[] = [
  'authorization',
  'proxy-authorization',
  'api-key',
  'apikey',
  'x-api-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-vault-token',
  // Kong 3.15 masks the headers that identify a consumer too
  'x-consumer-id',
  'x-consumer-username',
  'x-consumer-custom-id',
  'x-credential-identifier',
];

export function isSensitiveHeader(name: string): bool {
  return SENSITIVE_HEADERS.includes(lowerAscii(name));
}

/** Replaces every occurrence of a secret in a text with the mask. */
export function maskSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (let i = 0; i < secrets.length; i++) {
    const s = secrets[i];
    if (s.length == 0) continue;
    if (out.indexOf(s) >= 0) out = out.replaceAll(s, MASK);
  }
  return out;
}

export function writeMasked(w: ByteWriter, v: Value, secrets: string[], depth: i32): void {
  if (v.sensitive) {
    writeJsonString(w, MASK);
    return;
  }
  v.resolve();
  const k = v.kind;
  if (k == Kind.NULL) w.str('null');
  else if (k == Kind.BOOL) w.str(v.b ? 'true' : 'false');
  else if (k == Kind.NUM) writeNumber(w, v.n);
  else if (k == Kind.STR) writeJsonString(w, maskSecrets(v.s, secrets));
  else if (k == Kind.ARR) {
    w.byte(0x5b);
    const items = v.items!;
    for (let i = 0; i < items.length; i++) {
      if (w.over) return;
      if (i > 0) w.byte(0x2c);
      writeMasked(w, items[i], secrets, depth + 1);
    }
    w.byte(0x5d);
  } else {
    w.byte(0x7b);
    const keys = v.keys!;
    for (let i = 0; i < keys.length; i++) {
      if (w.over) return;
      if (i > 0) w.byte(0x2c);
      writeJsonString(w, keys[i]);
      w.byte(0x3a);
      if (isSensitiveHeader(keys[i]) && v.vals![i].typeKind() != Kind.NULL) writeJsonString(w, MASK);
      else writeMasked(w, v.vals![i], secrets, depth + 1);
    }
    w.byte(0x7d);
  }
}

export class Trace {
  startedAt: f64;
  startMono: f64;
  events: ByteWriter = new ByteWriter(1024);
  count: i32 = 0;
  /** events were left out: the trace would have outgrown the write limit */
  truncated: bool = false;
  /** where the open event goes, its start (to take it back) and the overflow flag before it */
  private w: ByteWriter = this.events;
  private mark: i32 = 0;
  private savedOverflow: bool = false;
  private scratch: ByteWriter = new ByteWriter(64);

  /** when each node started running (ms, monotonic): resume and cancel report a duration */
  runAt: StaticArray<f64>;

  constructor(nodes: i32) {
    this.startedAt = nowMs();
    this.startMono = monoMs();
    this.runAt = new StaticArray<f64>(nodes);
  }

  /** Seconds since the trace started, to the microsecond (Kong reports seconds). */
  elapsed(): f64 {
    return Math.round((monoMs() - this.startMono) * 1000.0) / 1000000.0;
  }

  /** Seconds since node i started running. */
  durationOf(i: i32): f64 {
    return Math.round((monoMs() - this.runAt[i]) * 1000.0) / 1000000.0;
  }

  /** Starts an event's object where it goes (the scratch writer once the trace is full). */
  private begin(): ByteWriter {
    this.savedOverflow = overflowed();
    // half the limit for events leaves room for the report around them
    let w = this.events;
    if (this.truncated || w.len > writeLimitBytes() >> 1) {
      this.truncated = true;
      w = this.scratch;
      w.reset();
    }
    this.w = w;
    this.mark = w.len;
    if (this.count++ > 0) w.byte(0x2c);
    return w;
  }

  /**
   * Opens an event in Kong 3.10's shape (src/debug.rs: `action`, `name`,
   * `type` for run and resume); the caller adds `values` and ends it with
   * closeAt() or closeDuration().
   */
  open310(action: string, name: string, type: string | null): ByteWriter {
    const w = this.begin();
    w.str('{"action":"');
    w.str(action);
    w.str('","name":');
    writeJsonString(w, name);
    if (type !== null) {
      w.str(',"type":');
      writeJsonString(w, type);
    }
    return w;
  }

  /** Ends a 3.10 event with its `at` (seconds since the trace started). */
  closeAt(): void {
    this.w.str(',"at":');
    writeNumber(this.w, this.elapsed());
    this.close();
  }

  /** Ends a 3.10 `resume` event with the seconds since node i ran. */
  closeDuration(i: i32): void {
    this.w.str(',"duration":');
    writeNumber(this.w, this.durationOf(i));
    this.close();
  }

  /** Opens an event; the caller may add fields, then calls close(). */
  open(name: string, type: string, action: string): ByteWriter {
    const w = this.begin();
    w.str('{"name":');
    writeJsonString(w, name);
    w.str(',"type":');
    writeJsonString(w, type);
    w.str(',"action":"');
    w.str(action);
    w.str('","at":');
    writeNumber(w, this.elapsed());
    return w;
  }

  close(): void {
    const w = this.w;
    w.byte(0x7d);
    if (w.over || w === this.scratch) {
      // an event too big for the trace is left out, and the trace says so
      w.len = this.mark;
      w.over = false;
      this.count--;
      this.truncated = true;
    }
    // the trace handles its own overflow: a node's output is not at fault
    restoreOverflow(this.savedOverflow);
  }

  event(name: string, type: string, action: string): void {
    this.open(name, type, action);
    this.close();
  }
}
