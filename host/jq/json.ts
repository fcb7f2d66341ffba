// JSON text parsing for fromjson / the CLI (jq accepts nan and NaN literals).
import { JqError } from './values.js';

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const t = text.trim();
    if (/^-?(nan|NaN)/.test(t)) return NaN;
    if (/(?:^|[\s,:\[])-?(?:nan|NaN|Infinity)\b/.test(t)) {
      try {
        return JSON.parse(
          t.replace(/(^|[\s,:\[])(-?)(nan|NaN|Infinity)\b/g, (_m, pre, sign, w) =>
            pre + (w === 'Infinity' ? (sign ? '-1e1000' : '1e1000') : '"\\u0000NaN\\u0000"'),
          ),
          (_k, v) => (v === '\u0000NaN\u0000' ? NaN : v),
        );
      } catch {
        /* fallthrough */
      }
    }
    if (/\bnan\b|\bNaN\b/.test(t)) {
      try {
        return JSON.parse(t.replace(/(-?)\b(?:nan|NaN)\b/g, 'null'));
      } catch {
        /* fallthrough */
      }
    }
    if (t === '') throw new JqError(`Expected JSON value (while parsing '${text}')`);
    throw new JqError(`${text} (while parsing '${text}')`);
  }
}

/** Splits text holding a sequence of JSON values; returns [value, line where it ends]. */
export function splitJson(text: string): { values: { text: string; line: number }[]; error?: { line: number; msg: string } } {
  const values: { text: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const isWs = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF';
  while (i < n) {
    while (i < n && isWs(text[i])) {
      if (text[i] === '\n') line++;
      i++;
    }
    if (i >= n) break;
    const start = i;
    const c = text[i];
    if (c === '{' || c === '[') {
      let depth = 0;
      let inStr = false;
      for (; i < n; i++) {
        const ch = text[i];
        if (ch === '\n') line++;
        if (inStr) {
          if (ch === '\\') i++;
          else if (ch === '"') inStr = false;
        } else if (ch === '"') inStr = true;
        else if (ch === '{' || ch === '[') depth++;
        else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      if (depth !== 0) return { values, error: { line, msg: 'Unfinished JSON term at EOF' } };
    } else if (c === '"') {
      i++;
      for (; i < n; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '"') {
          i++;
          break;
        }
      }
    } else {
      while (i < n && !isWs(text[i]) && !'{}[]"'.includes(text[i])) i++;
      if (i === start) i++;
    }
    values.push({ text: text.slice(start, i), line });
  }
  return { values };
}
