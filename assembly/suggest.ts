// "did you mean": the one known name a misspelt one is closest to.

import { jsonQuote } from './json';

/** Damerau-Levenshtein distance (optimal string alignment: each adjacent transposition costs 1). */
export function editDistance(a: string, b: string): i32 {
  const n = a.length;
  const m = b.length;
  if (n == 0) return m;
  if (m == 0) return n;
  const w = m + 1;
  const d = new StaticArray<i32>((n + 1) * w);
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca == cb ? 0 : 1;
      let v = d[(i - 1) * w + j] + 1;
      const ins = d[i * w + j - 1] + 1;
      if (ins < v) v = ins;
      const sub = d[(i - 1) * w + j - 1] + cost;
      if (sub < v) v = sub;
      if (i > 1 && j > 1 && ca == b.charCodeAt(j - 2) && a.charCodeAt(i - 2) == cb) {
        const tr = d[(i - 2) * w + j - 2] + 1;
        if (tr < v) v = tr;
      }
      d[i * w + j] = v;
    }
  }
  return d[n * w + m];
}

/** How far a name of this length may be from its suggestion: 2, 1 for 3-4 characters, 0 (none) for shorter names. */
function allowance(len: i32): i32 {
  if (len <= 2) return 0;
  if (len <= 4) return 1;
  return 2;
}

/**
 * ` (did you mean "NAME"?)` when exactly one candidate is closest to
 * `name` and within the allowance; '' otherwise. Case differences count
 * as one edit.
 */
export function didYouMean(name: string, candidates: string[]): string {
  const max = allowance(name.length);
  if (max == 0) return '';
  const lower = name.toLowerCase();
  let best = max + 1;
  let found = '';
  let ties = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (c == name || c.length == 0) continue;
    let d = editDistance(lower, c.toLowerCase());
    if (d == 0) d = 1;
    if (d < best) {
      best = d;
      found = c;
      ties = 0;
    } else if (d == best && c != found) ties++;
  }
  if (best > max || ties > 0) return '';
  return ' (did you mean ' + jsonQuote(found) + '?)';
}
