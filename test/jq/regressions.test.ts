// Differences from jq 1.7.1 found by the differential runs, each kept as a
// plain case with jq 1.7.1's answer.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/jq/index.js';

const cases: Array<[string, unknown, unknown[]]> = [
  // a UTF-8 sequence cut off by the end of the data is one U+FFFD for all the bytes left
  ['@base64d', null, ['\ufffd\ufffd']],
  ['@base64d', '6Q', ['\ufffd']],
  ['@base64d', '8J+Y', ['\ufffd']],
  ['@base64d', '6WE=', ['\ufffd']], // E9 61: the lead byte wants three bytes, two are left
  ['@base64d', 'w6k=', ['é']],
];

describe('jq 1.7.1 answers', () => {
  for (const [filter, input, out] of cases) {
    it(`${filter} on ${JSON.stringify(input)}`, () => expect(compile(filter).run(input)).toEqual(out));
  }
});
