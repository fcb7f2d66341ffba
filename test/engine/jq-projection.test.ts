// A jq node passes the host only the input paths its filter reads
// (host/jq/paths.ts, assembly/nodes.ts writeProjected). These tests check the
// analysis, that the host really gets less, and that no filter can tell:
// every program x input gives the same answer with and without projection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit, JqEngine } from '../../host/index.js';
import { nativeJq } from '../../host/engine/jq-engine.js';
import { compile } from '../../host/jq/index.js';
import { engine, text } from '../helpers/engine.js';

describe('input path analysis', () => {
  const cases: Array<[string, string[][] | null]> = [
    ['{author: .input1.slideshow.author, uuid: .input2.uuid}', [['input2', 'uuid'], ['input1', 'slideshow', 'author']]],
    ['.headers * {"X-Api-Key": (.query.api_key // "none")}', [['headers'], ['query', 'api_key']]],
    ['.a | .b | .c', [['a', 'b', 'c']]],
    ['.a.b?', [['a', 'b']]],
    ['.["x y"].z', [['x y', 'z']]],
    ['"\\(.a)-\\(.b.c)"', [['a'], ['b', 'c']]],
    ['{(.k): .v}', [['k'], ['v']]],
    ['.a | length', [['a']]],
    ['.a[0].b', [['a']]],
    ['.a[]', [['a']]],
    ['(.a | .b), .a', [['a']]],
    ['try .a catch .', [['a']]],
    ['.x // empty', [['x']]],
    // the whole input, or constructs the analysis does not follow
    ['.', null],
    ['keys', null],
    ['map(.a)', null],
    ['if . then .a else .b end', null],
    ['.a as $x | $x', null],
    ['$headers', null],
    ['def f: .a; f', null],
    ['reduce .a[] as $x (0; . + $x)', null],
    ['.a = 1', null],
    ['..', null],
    ['$__loc__', null],
    ['.[.k]', null],
  ];
  for (const [filter, paths] of cases) {
    it(filter, () => expect(compile(filter, { variables: ['headers'] }).inputPaths).toEqual(paths));
  }
});

/** The built-in jq without its path analysis: the engine then passes whole inputs. */
const wholeInputJq: JqEngine = {
  compile(filter, vars) {
    const c = nativeJq.compile(filter, vars);
    return { run: (input, v) => c.run(input, v) };
  },
};

/** The built-in jq, recording every input it gets. */
function recordingJq(seen: unknown[]): JqEngine {
  return {
    compile(filter, vars) {
      const c = nativeJq.compile(filter, vars);
      return { run: (input, v) => (seen.push(input), c.run(input, v)), inputPaths: c.inputPaths };
    },
  };
}

let body = '';
const transport = {
  send: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) }),
  close: async () => {},
};

let projected: Datakit;
let whole: Datakit;
let seen: unknown[];
let recording: Datakit;

beforeAll(async () => {
  projected = await engine({ transport });
  whole = await engine({ transport, jq: wholeInputJq });
  seen = [];
  recording = await engine({ transport, jq: recordingJq(seen) });
});

afterAll(async () => {
  await Promise.all([projected.close(), whole.close(), recording.close()]);
});

async function answer(dk: Datakit, cfg: object, query = 'q=1&api_key=k') {
  const r = await dk.load(cfg).run({ method: 'GET', path: '/', query, requestId: 'same-id-for-both' });
  return { status: r.response.status, body: text(r.response.body), failure: r.failure?.message ?? null };
}

// Values under 512 bytes go to jq whole (cutting them costs more than it
// saves), so the inputs are also tried padded past that: at the top level
// only (keeping the original text), and in every object.
const PAD = 'p'.repeat(600);
function padTop(text: string): string {
  if (!text.trimStart().startsWith('{')) return text;
  const i = text.indexOf('{');
  const rest = text.slice(i + 1).trimStart();
  return `{"_pad":"${PAD}"${rest.startsWith('}') ? '' : ','}${text.slice(i + 1)}`;
}
function padAll(text: string): string {
  const pad = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(pad) : v !== null && typeof v === 'object' ? { _pad: PAD, ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pad(x)])) } : v;
  return JSON.stringify(pad(JSON.parse(text)));
}

describe('projection changes nothing a filter can see', () => {
  const programs = [
    '{author: .input1.slideshow.author, uuid: .input2.uuid}',
    '.a.b',
    '.a.b?',
    '.a | length',
    '[.a[]?]',
    '"\\(.a)-\\(.b.c)"',
    '.a.b // "none"',
    '{x: .a.b.c, y: .d}',
    '.a + .b',
    'if .c then .a else .b end',
    'try .a.b catch "caught"',
    '.a | keys?',
    '[.a.b, .a.c]',
    '.a.b | tostring',
    '.["x y"].z',
    '.a == .b',
    '.a.x',
    '.["é"].b',
  ];
  const inputs = [
    '{"a":{"b":1,"c":[1,2]},"b":{"c":"x"},"c":true,"d":null}',
    '{"a":"str","b":2}',
    '{"a":[1,2,3],"b":[4]}',
    '{"a":null}',
    '{}',
    '{"a":{"b":{"c":{"d":1}}},"a":{"b":"duplicate keys: the last wins"}}',
    '{ "a" : { "b" : 1.50 , "x":"\\u00e9\\"q" } , "x y": {"z": "sp"} }',
    '[1,2]',
    '"text"',
    '{"input1":{"slideshow":{"author":"A","slides":[{"t":1}]}},"input2":{"uuid":"u"}}',
    // a key written with an escape, and a non-ASCII key
    '{"\\u0061":{"b":"escaped key a"},"é":{"b":"accent"},"a":{"c":0}}',
  ];
  for (const program of programs) {
    it(program, async () => {
      const cfg = {
        nodes: [
          { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
          { name: 'J', type: 'jq', input: 'C.body', jq: program },
          { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
        ],
      };
      for (const input of [...inputs, ...inputs.map(padTop), ...inputs.map(padAll)]) {
        body = input;
        const a = await answer(projected, cfg);
        const b = await answer(whole, cfg);
        expect({ input, ...a }).toEqual({ input, ...b });
      }
    });
  }

  it('named inputs (static values and the request query)', async () => {
    for (const program of ['.s.a.b', '{k: .q.api_key, b: .s.b}', '.s.a | length', '.q']) {
      for (const values of [{ a: { b: 1, c: 2 }, b: 'x' }, { a: 'str' }, { a: [1] }]) {
        const cfg = {
          nodes: [
            { name: 'S', type: 'static', values },
            { name: 'J', type: 'jq', inputs: { s: 'S', q: 'request.query' }, jq: program },
            { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
          ],
        };
        expect({ program, ...(await answer(projected, cfg)) }).toEqual({ program, ...(await answer(whole, cfg)) });
      }
    }
  });
});

describe('what the host gets', () => {
  it('only the paths the filter reads, from a call body and from named inputs', async () => {
    body = JSON.stringify({ input1: { slideshow: { author: 'A', slides: [{ title: 'x'.repeat(1000) }], title: 'T' } }, other: [1, 2, 3] });
    seen.length = 0;
    const r = await answer(recording, {
      nodes: [
        { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
        { name: 'J', type: 'jq', input: 'C.body', jq: '{author: .input1.slideshow.author, none: .missing.x}' },
        { name: 'N', type: 'jq', inputs: { body: 'C.body', q: 'request.query' }, jq: '{k: .q.api_key}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(JSON.parse(r.body)).toEqual({ author: 'A', none: null });
    expect(seen).toContainEqual({ input1: { slideshow: { author: 'A' } } });
    // the named input the filter never reads is left out; the small query goes whole
    expect(seen).toContainEqual({ q: { q: '1', api_key: 'k' } });
  });

  it('a filter that reads its whole input gets all of it', async () => {
    body = '{"a":1,"b":{"c":2}}';
    seen.length = 0;
    await answer(recording, {
      nodes: [
        { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
        { name: 'J', type: 'jq', input: 'C.body', jq: 'keys' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(seen).toEqual([{ a: 1, b: { c: 2 } }]);
  });

  it('other nodes still get the body byte for byte', async () => {
    body = '{ "a" : {"b":1} ,  "z": 1.50 }';
    // J runs first (EXIT waits for it); its lookups must not re-shape C.body
    const r = await answer(projected, {
      nodes: [
        { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
        { name: 'J', type: 'jq', input: 'C.body', jq: '{"X-B": (.a.b | tostring)}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body', headers: 'J' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe(body);
  });
});

describe('large and tricky call bodies', () => {
  const cfg = (jq: string) => ({
    nodes: [
      { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
      { name: 'J', type: 'jq', input: 'C.body', jq },
      { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
    ],
  });

  it('brackets and quotes inside strings do not confuse skipping', async () => {
    body = '{"a":{"s":"}]\\"{[","t":["]"]},"b":[1,{"c":"]}"},-2.5e3,true,null],"d":{"e":"x"}}';
    for (const jq of ['.d.e', '.b', '.a.s', '.a.t', '{d: .d, b: .b}']) {
      const a = await answer(projected, cfg(jq));
      expect(a).toEqual(await answer(whole, cfg(jq)));
      expect(a.status).toBe(200);
    }
    expect(JSON.parse((await answer(projected, cfg('.b'))).body)).toEqual([1, { c: ']}' }, -2500, true, null]);
  });

  it('invalid JSON bodies still fail the call node', async () => {
    for (const bad of ['{"a":-}', '{"a":1.}', '{"a":1e}', '{"a":tru}', '{"a":[1,]}', '{"a":"x}', '{"a":1}}']) {
      body = bad;
      const r = await answer(projected, cfg('.a'));
      expect({ bad, status: r.status }).toEqual({ bad, status: 500 });
      expect(r.failure).toMatch(/JSON/);
    }
  });

  it('a 1 MiB answer: the filter still sees exactly its two fields', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', '}', '"'], price: i / 3 }));
    body = JSON.stringify({ items, meta: { total: 10_000, page: 7 } });
    expect(body.length).toBeGreaterThan(500_000);
    seen.length = 0;
    const r = await answer(recording, cfg('{total: .meta.total, page: .meta.page}'));
    expect(JSON.parse(r.body)).toEqual({ total: 10_000, page: 7 });
    expect(seen).toEqual([{ meta: { total: 10_000, page: 7 } }]);
  });
});
