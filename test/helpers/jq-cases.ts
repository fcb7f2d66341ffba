// One vitest case per jq filter and input, with jq 1.7.1's answer: the shape of the jq
// regression tables.
import { expect, it } from 'vitest';
import { compile, JqRuntimeError } from '../../host/jq/index.js';

/** one test per case: the filter on the input gives exactly these outputs */
export function itAnswers(cases: [string, unknown, unknown[]][]): void {
  for (const [filter, input, out] of cases) {
    it(`${filter} on ${JSON.stringify(input)}`, () => expect(compile(filter).run(input)).toEqual(out));
  }
}

/** one test per case: the filter on the input fails at run time with exactly this message (after these outputs, when given) */
export function itFails(cases: [string, unknown, string, unknown[]?][]): void {
  for (const [filter, input, message, outputs] of cases) {
    const before = outputs === undefined ? '' : `${JSON.stringify(outputs)} then `;
    it(`${filter} on ${JSON.stringify(input)} fails: ${before}${message}`, () => {
      let error: unknown = null;
      try {
        compile(filter).run(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(JqRuntimeError);
      expect((error as JqRuntimeError).message).toBe(message);
      if (outputs !== undefined) expect((error as JqRuntimeError).outputs).toEqual(outputs);
    });
  }
}
