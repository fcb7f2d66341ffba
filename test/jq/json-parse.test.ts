// JSON text as jq 1.7.1 reads it (host/jq/json.ts): values, key order, jq's
// literal extras, and jv_parse's error texts with line and column (the
// expected messages are jq-wasm's, jq 1.7.1).
import { describe, expect, it } from 'vitest';
import { compile, JqRuntimeError } from '../../host/jq/index.js';
import { jsonParseKeepsMeaning, parseJsonSequence, parseJsonText } from '../../host/jq/json.js';
import { dump, JqError } from '../../host/jq/values.js';

const fromjson = (text: string): string => {
  try {
    return compile('fromjson | tojson').runValues(text)[0] as string;
  } catch (e) {
    return `error: ${(e as JqRuntimeError).message}`;
  }
};

describe('fromjson error texts (jq 1.7.1)', () => {
  const cases: Array<[string, string]> = [
    [',', "Expected value before ',' at line 1, column 1 (while parsing ',')"],
    ['1,', "Expected value before ',' at line 1, column 2 (while parsing '1,')"],
    ['[[[[', "Unfinished JSON term at EOF at line 1, column 4 (while parsing '[[[[')"],
    ['{"a"}', `Objects must consist of key:value pairs at line 1, column 5 (while parsing '{"a"}')`],
    ['[nan,-nan,NaN,infinite,-Infinity]', "Invalid numeric literal at line 1, column 23 (while parsing '[nan,-nan,NaN,infinite,-Infinity]')"],
    ['[1] 2', "Unexpected extra JSON values (while parsing '[1] 2')"],
    ['1"a"', `Unexpected extra JSON values (while parsing '1"a"')`],
    ['"\\ud800"', `Invalid \\uXXXX\\uXXXX surrogate pair escape at line 1, column 8 (while parsing '"\\ud800"')`],
    ['[1,2\n,]', "Expected another array element at line 2, column 2 (while parsing '[1,2\n,]')"],
    ['{"a":1,}', `Expected another key-value pair at line 1, column 8 (while parsing '{"a":1,}')`],
    ['"\u0001"', `Invalid string: control characters from U+0000 through U+001F must be escaped at line 1, column 3 (while parsing '"\u0001"')`],
    ['[1 2]', "Expected separator between values at line 1, column 5 (while parsing '[1 2]')"],
    [']', "Unmatched ']' at line 1, column 1 (while parsing ']')"],
    ['{:1}', "Expected string key before ':' at line 1, column 2 (while parsing '{:1}')"],
    ['{1:1}', "Object keys must be strings at line 1, column 3 (while parsing '{1:1}')"],
    ['{"a":}', `Unmatched '}' at line 1, column 6 (while parsing '{"a":}')`],
    // columns count UTF-8 bytes
    ['é ,', "Invalid numeric literal at line 1, column 3 (while parsing 'é ,')"],
    ['tru', "Invalid literal at EOF at line 1, column 3 (while parsing 'tru')"],
    ['"\\x"', `Invalid escape at line 1, column 4 (while parsing '"\\x"')`],
    ['"\\u12"', `Invalid \\uXXXX escape at line 1, column 6 (while parsing '"\\u12"')`],
    ['"\\u12zz"', `Invalid characters in \\uXXXX escape at line 1, column 8 (while parsing '"\\u12zz"')`],
    ['"abc', `Unfinished string at EOF at line 1, column 4 (while parsing '"abc')`],
    ['', "Expected JSON value (while parsing '')"],
    [' ', "Expected JSON value (while parsing ' ')"],
    // every byte is parsed (a NUL is a literal token byte); the message quotes up to the NUL
    ['[\u0000]', "Invalid numeric literal at line 1, column 3 (while parsing '[')"],
  ];
  for (const [text, message] of cases) it(JSON.stringify(text), () => expect(fromjson(text)).toBe(`error: ${message}`));

  it('nests 256 containers, not 257', () => {
    expect(fromjson('['.repeat(256))).toBe(`error: Unfinished JSON term at EOF at line 1, column 256 (while parsing '${'['.repeat(256)}')`);
    expect(fromjson('['.repeat(257))).toBe(`error: Exceeds depth limit for parsing at line 1, column 257 (while parsing '${'['.repeat(257)}')`);
  });

  it('tonumber reports the parser error, and a parsed non-number as not a number', () => {
    const p = compile('[.[] | try tonumber catch .]');
    expect(p.runValues([' 1 ', '[1]', '1 2', 'nan'])[0]).toEqual([1, 'string ("[1]") cannot be parsed as a number', "Unexpected extra JSON values (while parsing '1 2')", null]);
  });
});

describe('JSON values (jq 1.7.1)', () => {
  const cases: Array<[string, string]> = [
    ['nan', 'null'],
    ['[nan,-nan,NaN,Infinity,-inf]', '[null,null,null,1.7976931348623157e+308,-1.7976931348623157e+308]'],
    ['"\\udc00x"', '"\ufffdx"'],
    ['\ufeff1', '1'],
    ['"\\ud83d\\ude00\\/\\b\\f\\n\\r\\t"', '"😀/\\b\\f\\n\\r\\t"'],
    ['{"a":1,"0":2,"a":3}', '{"a":3,"0":2}'],
    ['\t\r\n[1,{"b":[]}]', '[1,{"b":[]}]'],
  ];
  for (const [text, json] of cases) it(JSON.stringify(text), () => expect(fromjson(text)).toBe(json));

  it('parses deep texts without recursion', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    let v = parseJsonText(deep, Infinity);
    let depth = 0;
    while (Array.isArray(v) && v.length) {
      v = v[0];
      depth++;
    }
    expect(depth).toBe(99_999);
  });

  it('a sequence gives every value before the first error, with its line', () => {
    const r = parseJsonSequence('1 {"b":1,"0":2}\n[3]\n  x y');
    expect(r.values.map((v) => dump(v.value))).toEqual(['1', '{"b":1,"0":2}', '[3]']);
    expect(r.values.map((v) => v.line)).toEqual([1, 1, 2]);
    expect(r.error).toBe('Invalid numeric literal at line 3, column 4');
  });

  it('errors are jq errors (catchable)', () => {
    expect(() => parseJsonText('[')).toThrow(JqError);
    expect(compile('try fromjson catch "caught"').runValues('{')).toEqual(['caught']);
  });

  it('JSON.parse is only trusted for texts without index-like keys or digit/NUL escapes', () => {
    expect(jsonParseKeepsMeaning('{"a":1,"b":[1,"2"],"c":"0"}')).toBe(true);
    expect(jsonParseKeepsMeaning('{"a":1,"0":2}')).toBe(false);
    expect(jsonParseKeepsMeaning('{"a":1,"12" :2}')).toBe(false);
    expect(jsonParseKeepsMeaning('{"\\u0031":2}')).toBe(false);
    expect(jsonParseKeepsMeaning('{"\\u0000x":2}')).toBe(false);
  });
});
