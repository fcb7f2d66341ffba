// Simple jq filters (paths, object construction, //, +, *, ==, !=) run in the
// module on its own values (host/jq/simple.ts, assembly/jqsimple.ts); the
// host's jq is asked whenever the module cannot be sure of the host's exact
// answer. These tests check the form the host hands over, that the module
// really skips the host for the common cases, and, differentially, that no
// filter x input can tell the two paths apart: same bytes out, same errors.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/jq/index.js';
import { counter, outcome, viaHost, viaModule } from '../helpers/jq-two-ways.js';

describe('simple form', () => {
  const simple: Array<[string, unknown]> = [
    ['.', ['.']],
    ['.a.b', ['i', ['i', ['.'], ['v', 'a']], ['v', 'b']]],
    ['.a // "none"', ['//', ['i', ['.'], ['v', 'a']], ['v', 'none']]],
    ['{a: 1, "b": .x}', ['{', 'a', ['v', 1], 'b', ['i', ['.'], ['v', 'x']]]],
    ['.a != null', ['!=', ['i', ['.'], ['v', 'a']], ['v', null]]],
    ['.a | .b', ['|', ['i', ['.'], ['v', 'a']], ['i', ['.'], ['v', 'b']]]],
  ];
  for (const [filter, form] of simple) it(`${filter} has a simple form`, () => expect(compile(filter).simple).toEqual(form));

  const notSimple = [
    '.a, .b', '.[]', '.a?', '.a[]', '$x', '.a as $y | $y', 'map(.a)', 'length', '{(.k): 1}', '{a: 1, a: 2}',
    '-1', '.a - 1', '.a < 1', '.a and .b', 'if .a then 1 else 2 end', 'try .a', '"x\\(.a)"', '[.a]', '..', 'empty', '@base64',
    'reduce .[] as $x (0; . + $x)', 'def f: .; f', '.a = 1', '$__loc__',
  ];
  for (const filter of notSimple) it(`${filter} has none`, () => expect(compile(filter, { variables: ['x'] }).simple).toBeNull());
});

const PLAIN = JSON.stringify({
  a: 'x', b: 'y', s: 'S', t: 'T', n: 1, o: { p: 1, q: { r: 1 } }, p: { q: { s: 2 }, z: 3 }, arr: [1, 'x'], id: 'k',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, query: { api_key: 'k1' },
  token_type: 'Bearer', access_token: 'tok', slideshow: { author: 'Yours Truly', slides: [{ title: 'T' }] }, uuid: 'u-1',
});

describe('the module evaluates simple filters itself', () => {
  const cases: Array<[string, boolean]> = [
    ['{Authorization: (.token_type + " " + .access_token)}', false],
    ['.headers * {"X-Api-Key": (.query.api_key // "none")}', false],
    ['{author: .slideshow.author, uuid: .uuid}', false],
    ['(.Authorization // .authorization) != null', false],
    ['{"k": {"target": "a"}}[.id] // {"target": "default"}', false],
    ['.static.headers * {"X-Api-Key": (.query.api_key // "none")}', true],
    ['{u: .body.uuid, k: .static.extra.k}', true],
  ];
  for (const [filter, named] of cases) {
    it(filter, async () => {
      counter.runs = 0;
      const r = await outcome(viaModule, filter, PLAIN, named);
      expect(counter.runs).toBe(0);
      expect(r).toEqual(await outcome(viaHost, filter, PLAIN, named));
    });
  }

  it('and asks the host when it cannot be sure of the exact answer', async () => {
    const askHost: Array<[string, string]> = [
      ['.n', '{"n": 1.5}'], // not an integer
      ['.n', '{"n": 1e2}'], // an exponent: JSON.parse rounds it its own way
      ['.n', '{"n": 12345678901234567890}'], // beyond 2^53
      ['.o', '{"o": {"b": 1, "1": 2}}'], // JavaScript lists "1" first
      ['.a', '{"a": {"__proto__": 1}}'],
      ['.s', '{"s": "\\ud800"}'], // a lone surrogate
      ['.a.b', '{"a": "str"}'], // a jq error
      ['.a.b // "d"', '{"a": "str"}'], // an error // catches
      ['.s + 1', '{"s": "x"}'],
      ['.[0]', '[1]'],
    ];
    for (const [filter, body] of askHost) {
      counter.runs = 0;
      const r = await outcome(viaModule, filter, body, false);
      expect(counter.runs, `${filter} on ${body}`).toBe(1);
      expect(r, `${filter} on ${body}`).toEqual(await outcome(viaHost, filter, body, false));
    }
  });
});

describe('no filter x input can tell the module from the host', () => {
  const filters = [
    '.', '.a', '.a.b', '.["a"]', '."a-b"', '.a // "d"', '.a // .b', '(.a // .b) != null', '.a == "x"', '.n == 1', '.n != 1', '.b == false',
    '{x: .a, y: .b}', '{a: 1, b: "s", c: null, d: true, e: -0}', '.a + .b', '.s + " " + .t', '.o + .p', '.o * .p', '.arr + .arr',
    '.n + 1', '.n * 2', '.n + .n', '{"k": .a}[.id]', '{"k": {"t": 1}}[.id] // {"t": 0}', '.a | .b', '.o | .q | .r', '.x.y.z',
    '.headers * {"X-Api-Key": (.query.api_key // "none")}', '{Authorization: (.token_type + " " + .access_token)}',
    '.[0]', '.s + 1', '.o * 2', '.a * .b', 'null + .a', '.a + null', '{} * .o', '.o * {}', '.arr * .arr',
    // computed and literal numbers that are not safe integers print differently in JavaScript and AssemblyScript
    '{x: 1.5, y: 0.000001, z: 1e21, w: 123456789012345678, v: 5e-324}', '.n * 0.1', '.n + 0.2', '.n * 1e300 * 1e10',
  ];
  const inputs = [
    PLAIN,
    '{"a":1.0,"b":2,"n":1e2,"o":{"p":1.5},"p":{"q":-0},"big":12345678901234567890,"s":"x","t":"y"}',
    '{"a":"\\u0041\\/\\"","b":"é","s":"\\ud83d\\ude00","t":"\\ud800","a-b":"dash"}',
    '{"a":1,"a":2,"o":{"x":1,"x":{"y":2}},"p":{"x":{"z":3}}}',
    '{"o":{"b":1,"1":2},"p":{"0":"z"},"a":"1","id":"1"}',
    '{"__proto__":{"x":1},"a":{"__proto__":1},"o":{"__proto__":{"y":1}},"p":{}}',
    '{"a":"str","b":[1],"o":"notobj","n":"1","arr":{"x":1}}',
    '{"a":null,"b":false,"id":null,"n":null,"o":null,"p":null}',
    '{ "a" : "x" , "n" : 3 , "o" : { "p" : [ 1 , 2 ] } , "p" : { "p" : { "q" : 1 } } }',
    '{"o":{"p":{"q":1.25}},"p":{"p":{"r":2}},"n":9007199254740991,"b":-9007199254740991}',
    '{"a":"\u00e9\u20ac\ud83d\ude00","b":"\\u00e9","s":"tab\\there","t":"nl\\n"}',
    'null', '"just a string"', '[1,2]', '5', 'true', '{}',
  ];
  // with named inputs the input is {body, static, query}
  const namedFilters = [
    '.', '.body', '.body.a', '.static', '.query', '.body.a // .query.x', '.static.extra * .body.o', '.static.extra + .body.p',
    '{k: .static.extra.k, a: .body.a, q: .query.api_key}', '.static.headers * {"X-Api-Key": (.query.api_key // "none")}',
    '.query.x + .body.s', '.static.extra.n + .body.n', '.body.id == .static.extra.k',
  ];
  for (const named of [false, true]) {
    it(named ? 'named inputs' : 'one input', async () => {
      const mismatches: string[] = [];
      let answeredByModule = 0;
      for (const f of named ? namedFilters : filters) {
        for (const input of inputs) {
          counter.runs = 0;
          const a = await outcome(viaModule, f, input, named);
          if (counter.runs === 0) answeredByModule++;
          const b = await outcome(viaHost, f, input, named);
          if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${f} on ${input}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        }
      }
      expect(mismatches).toEqual([]);
      // both paths were really exercised
      console.log(`${named ? 'named' : 'one input'}: ${answeredByModule} of ${(named ? namedFilters : filters).length * inputs.length} answered by the module`);
      expect(answeredByModule).toBeGreaterThan(named ? 120 : 230);
    });
  }
});
