// musl's qsort (smoothsort.ts): with a consistent comparator it is a sort like any other;
// with nan keys its own order is jq-wasm's (regressions.test.ts holds those answers).
import { describe, expect, it } from 'vitest';
import { smoothsort } from '../../host/jq/smoothsort.js';

describe('smoothsort', () => {
  it('sorts every length up to 300 and every shape (random, sorted, reversed, few values)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n <= 300; n++) {
      const shapes = [
        Array.from({ length: n }, () => Math.floor(rnd() * 1000)),
        Array.from({ length: n }, (_, i) => i),
        Array.from({ length: n }, (_, i) => n - i),
        Array.from({ length: n }, () => Math.floor(rnd() * 3)),
      ];
      for (const a of shapes) {
        const want = [...a].sort((x, y) => x - y);
        smoothsort(a, (x, y) => x - y);
        expect(a).toEqual(want);
      }
    }
  });
  it('sorts a large array', () => {
    const a = Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 70_001);
    smoothsort(a, (x, y) => x - y);
    expect(a.every((x, i) => i === 0 || a[i - 1] <= x)).toBe(true);
  });
});
