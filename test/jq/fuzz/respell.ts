// A case with two spellings neutralised: integer-like object keys renamed
// ("0" -> "k0"; JS objects order such keys first) and numbers written as the
// double they denote (1.0 -> 1, 1e1000 -> 1.7976931348623157e+308; jq 1.7.1
// prints a literal as written). If the engines agree on the respelled case,
// their disagreement was only about those spellings.
import { numToString } from '../../../host/jq/values.js';
import { isNum, isObj, parseJValue, toJson, type JValue } from './inputs.js';

const INTEGER_KEY = /^(?:0|[1-9]\d*)$/;

function canonicalNumber(text: string): string {
  const n = Number(text);
  if (n === 0) return text.startsWith('-') ? '-0' : '0';
  return numToString(n === Infinity ? Number.MAX_VALUE : n === -Infinity ? -Number.MAX_VALUE : n);
}

function respellValue(v: JValue): JValue {
  if (Array.isArray(v)) return v.map(respellValue);
  if (isObj(v)) return { entries: v.entries.map(([k, x]) => [INTEGER_KEY.test(k) ? `k${k}` : k, respellValue(x)] as [string, JValue]) };
  if (isNum(v)) return { num: canonicalNumber(v.num) };
  return v;
}

/** Numbers outside string literals written canonically; integer-like string literals renamed like keys. */
export function respellFilter(filter: string): string {
  let out = '';
  let i = 0;
  while (i < filter.length) {
    const c = filter[i];
    if (c === '"') {
      // a string literal (interpolations included): an integer-like one is renamed, the rest kept
      let j = i + 1;
      let depth = 0;
      while (j < filter.length && !(filter[j] === '"' && depth === 0)) {
        if (filter[j] === '\\' && filter[j + 1] === '(') depth++, (j += 2);
        else if (filter[j] === '\\') j += 2;
        else if (depth > 0 && filter[j] === ')') depth--, j++;
        else j++;
      }
      const lit = filter.slice(i, j + 1);
      out += /^"(?:0|[1-9]\d*)"$/.test(lit) ? `"k${lit.slice(1)}` : lit;
      i = j + 1;
      continue;
    }
    const m = /^\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(filter.slice(i));
    if (m && !/[\w.$]/.test(filter[i - 1] ?? '')) {
      out += canonicalNumber(m[0]);
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function respellInput(inputText: string): string {
  return toJson(respellValue(parseJValue(inputText)));
}
