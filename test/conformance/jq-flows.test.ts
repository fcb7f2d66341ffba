// Every jq filter of Kong's published flows (and the spec's examples) compiles and gives the right result.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { compile } from '../../host/jq/index.js';
import { sharedDir } from './shared.js';

const shared = sharedDir;

function collectJq(node: unknown, out: string[]): void {
  if (Array.isArray(node)) node.forEach((n) => collectJq(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'jq' && typeof o.jq === 'string') out.push(o.jq);
    for (const v of Object.values(o)) collectJq(v, out);
  }
}

const filters: { file: string; jq: string }[] = [];
for (const f of readdirSync(path.join(shared, 'flows')).filter((f) => f.endsWith('.yaml')).sort()) {
  const out: string[] = [];
  collectJq(parse(readFileSync(path.join(shared, 'flows', f), 'utf8')), out);
  for (const jq of out) filters.push({ file: f, jq });
}
// yaml blocks of the spec
const spec = readFileSync(path.join(shared, 'spec/DATAKIT.md'), 'utf8');
for (const m of spec.matchAll(/```yaml\n([\s\S]*?)```/g)) {
  for (const doc of parseAllDocuments(m[1])) {
    try {
      const out: string[] = [];
      collectJq(doc.toJS(), out);
      for (const jq of out) filters.push({ file: 'DATAKIT.md', jq });
    } catch {
      /* illustrative snippets that are not valid YAML values */
    }
  }
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

// expected behaviour per filter (normalized text): [input, outputs][]
const headers = { host: 'example.com', Authorization: 'Bearer abc', path: 'tenant-1' };
const cases: Record<string, [unknown, unknown[]][]> = {
  [norm('(.Authorization // .authorization) != null')]: [
    [headers, [true]],
    [{ authorization: 'Bearer x' }, [true]],
    [{ host: 'h' }, [false]],
    [{}, [false]],
  ],
  [norm('.Authorization // .authorization')]: [
    [headers, ['Bearer abc']],
    [{ authorization: 'lower' }, ['lower']],
    [{}, [null]],
  ],
  [norm('(.Authorization2 // .authorization2) != null')]: [
    [{ Authorization2: 'Bearer 2' }, [true]],
    [{ authorization2: 'b' }, [true]],
    [headers, [false]],
  ],
  [norm('.Authorization2 // .authorization2')]: [
    [{ Authorization2: 'Bearer 2' }, ['Bearer 2']],
    [{ authorization2: 'b' }, ['b']],
    [{}, [null]],
  ],
  [norm('{ "username": .sub }')]: [
    [{ sub: 'alice', iss: 'expected-issuer-1', exp: 1 }, [{ username: 'alice' }]],
    [{}, [{ username: null }]],
  ],
  [norm('.headers * { "X-Api-Key": (.query.api_key // "none") }')]: [
    [
      { headers: { 'Content-Type': 'application/json' }, query: { api_key: 'k1' } },
      [{ 'Content-Type': 'application/json', 'X-Api-Key': 'k1' }],
    ],
    [{ headers: { a: { b: 1 } }, query: {} }, [{ a: { b: 1 }, 'X-Api-Key': 'none' }]],
  ],
  [norm('"https://my-token-service/" + .path + "/auth-token"')]: [
    [headers, ['https://my-token-service/tenant-1/auth-token']],
  ],
  [norm('{ Authorization: (.token_type + " " + .access_token) }')]: [
    [{ token_type: 'Bearer', access_token: 'tok' }, [{ Authorization: 'Bearer tok' }]],
  ],
  [norm('.headers * { "X-Api-Key": .apikey }')]: [
    [{ headers: { Accept: '*/*' }, apikey: 's3cr3t' }, [{ Accept: '*/*', 'X-Api-Key': 's3cr3t' }]],
  ],
  [norm('{ author: .input1.slideshow.author, uuid: .input2.uuid, }')]: [
    [
      { input1: { slideshow: { author: 'Yours Truly', title: 'Sample' } }, input2: { uuid: '3fa85f64' } },
      [{ author: 'Yours Truly', uuid: '3fa85f64' }],
    ],
  ],
  [norm('.static * (.request | with_entries(.key = "X-Request-" + .key))')]: [
    [
      { static: { 'X-Static': 'yes' }, request: { host: 'h', 'user-agent': 'curl' } },
      [{ 'X-Static': 'yes', 'X-Request-host': 'h', 'X-Request-user-agent': 'curl' }],
    ],
  ],
  [norm(
    '{ "caller-a": {"target": "backend-a.example:443", "scheme": "https"}, "caller-b": {"target": "backend-b.example:443", "scheme": "https"} }[.id] // {"target": "default.example:443", "scheme": "https"}',
  )]: [
    [{ id: 'caller-a' }, [{ target: 'backend-a.example:443', scheme: 'https' }]],
    [{ id: 'caller-b' }, [{ target: 'backend-b.example:443', scheme: 'https' }]],
    [{ id: 'other' }, [{ target: 'default.example:443', scheme: 'https' }]],
  ],
  [norm('.target')]: [[{ target: 'backend-a.example:443', scheme: 'https' }, ['backend-a.example:443']]],
  [norm('.scheme')]: [[{ target: 'backend-a.example:443', scheme: 'https' }, ['https']]],
  [norm('{ "caller-a": "upstream-a", "caller-b": "upstream-b" }[.id] // "upstream-default"')]: [
    [{ id: 'caller-a' }, ['upstream-a']],
    [{ id: 'caller-b' }, ['upstream-b']],
    [{ id: 'x' }, ['upstream-default']],
  ],
  [norm('{ "sub": .id }')]: [[{ id: 'c0ffee', username: 'bob' }, [{ sub: 'c0ffee' }]]],
  [norm('{ "X-Consumer-JWT": . }')]: [['eyJhbGciOi.x.y', [{ 'X-Consumer-JWT': 'eyJhbGciOi.x.y' }]]],
};

describe('jq filters of the shared flows', () => {
  it('found the filters', () => {
    expect(filters.length).toBeGreaterThan(15);
  });
  for (const { file, jq } of filters) {
    it(`${file}: ${norm(jq)}`, () => {
      const prog = compile(jq);
      const cs = cases[norm(jq)];
      expect(cs, `no expectation for filter ${JSON.stringify(jq)}`).toBeDefined();
      for (const [input, outputs] of cs) {
        const snapshot = JSON.stringify(input);
        expect(prog.run(input)).toEqual(outputs);
        expect(JSON.stringify(input)).toBe(snapshot); // input not mutated
      }
    });
  }
});

describe('flow filter errors', () => {
  it('a credential without id fails the node, like jq 1.7 (errors on the left of // propagate)', () => {
    const prog = compile('{"caller-a": "upstream-a", "caller-b": "upstream-b"}[.id] // "upstream-default"');
    expect(() => prog.run({})).toThrow('Cannot index object with null');
  });
  it('headers must be an object (jq: null * object fails the node)', () => {
    const prog = compile('.headers * {"X-Api-Key": (.query.api_key // "none")}');
    expect(() => prog.run({ headers: null })).toThrow('null (null) and object ({"X-Api-Key...) cannot be multiplied');
  });
});

describe('3.10 style: named inputs as $variables (spec section 1)', () => {
  it('binds named inputs as variables and as fields of .', () => {
    const prog = compile('{h: $req.host, same: ($req == .req)}', { variables: ['req'] });
    const req = { host: 'example.com' };
    expect(prog.run({ req }, { variables: { req } })).toEqual([{ h: 'example.com', same: true }]);
  });
  it('variables given at compile time with default values', () => {
    const prog = compile('$a + $b', { variables: { a: 1, b: 2 } });
    expect(prog.run(null)).toEqual([3]);
    expect(prog.run(null, { variables: { a: 10 } })).toEqual([12]);
  });
});
