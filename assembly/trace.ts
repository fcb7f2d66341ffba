// The X-DataKit-Debug-Trace report (spec section 7). Values are written
// with secrets and sensitive headers masked.

import { ByteWriter, lowerAscii } from './bytes';
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
      if (i > 0) w.byte(0x2c);
      writeMasked(w, items[i], secrets, depth + 1);
    }
    w.byte(0x5d);
  } else {
    w.byte(0x7b);
    const keys = v.keys!;
    for (let i = 0; i < keys.length; i++) {
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

  constructor() {
    this.startedAt = nowMs();
    this.startMono = monoMs();
  }

  /** Opens an event; the caller may add fields, then calls close(). */
  open(name: string, type: string, action: string): ByteWriter {
    const w = this.events;
    if (this.count++ > 0) w.byte(0x2c);
    w.str('{"name":');
    writeJsonString(w, name);
    w.str(',"type":');
    writeJsonString(w, type);
    w.str(',"action":"');
    w.str(action);
    w.str('","at":');
    writeNumber(w, Math.round((monoMs() - this.startMono) * 1000.0) / 1000.0);
    return w;
  }

  close(): void {
    this.events.byte(0x7d);
  }

  event(name: string, type: string, action: string): void {
    this.open(name, type, action);
    this.close();
  }
}
