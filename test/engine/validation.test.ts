import { beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { DatakitConfigError } from '../../host/index.js';
import { engine } from '../helpers/engine.js';

let dk: Datakit;
beforeAll(async () => {
  dk = await engine();
});

const messages = (cfg: object) => dk.validate(cfg).map((e) => e.message);

describe('spec section 2 error texts', () => {
  it('an input connected twice', () => {
    expect(
      messages({
        nodes: [
          { name: 'GET_FOO', type: 'call', url: 'http://127.0.0.1/foo' },
          { name: 'GET_BAR', type: 'call', url: 'http://127.0.0.1/bar', output: 'FILTER' },
          { name: 'FILTER', type: 'jq', jq: '.', input: 'GET_FOO' },
        ],
      }),
    ).toEqual(['invalid connection ("GET_BAR" -> "FILTER"): conflicts with existing connection ("GET_FOO" -> "FILTER")']);
  });

  it('a known type mismatch: object -> map', () => {
    expect(
      messages({ nodes: [{ name: 'invalid', type: 'call', url: 'http://127.0.0.1/', output: 'service_request.headers' }] }),
    ).toEqual(['invalid connection ("invalid" -> "service_request.headers"): type mismatch: object -> map']);
  });

  it('a cycle through the upstream', () => {
    expect(
      messages({ nodes: [{ name: 'CALL', type: 'call', url: 'http://127.0.0.1/', input: 'service_response', output: 'service_request' }] }),
    ).toEqual(['invalid dependency (node #1 (CALL) -> node service_response): circular dependency']);
  });

  it('a cycle between user nodes', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'jq', jq: '.', input: 'B' },
          { name: 'B', type: 'jq', jq: '.', input: 'A' },
        ],
      }),
    ).toEqual(['invalid dependency (node #1 (A) -> node #2 (B)): circular dependency']);
  });

  it('errors name the node they concern', () => {
    const errs = dk.validate({ nodes: [{ name: 'A', type: 'static', values: { x: 1 } }, { name: 'B', type: 'nope' }] });
    expect(errs).toEqual([
      { message: 'node #2 (B): type: unknown node type "nope"', node: { index: 2, name: 'B', type: 'nope' }, field: 'type' },
    ]);
  });
});

describe('names', () => {
  it('rejects duplicate, reserved and malformed names', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'static', values: { x: 1 } },
          { name: 'A', type: 'static', values: { x: 1 } },
          { name: 'request', type: 'static', values: { x: 1 } },
          { name: 'has space', type: 'static', values: { x: 1 } },
          { name: 'vault', type: 'static', values: { x: 1 } },
        ],
      }),
    ).toEqual([
      'node #2: name: duplicate node name "A"',
      'node #3: name: "request" is a reserved node name',
      'node #4: name: invalid node name "has space" (use letters, digits, "_" and "-")',
      'node #5: name: "vault" is a reserved node name',
    ]);
  });

  it('accepts snake_case, kebab-case and upper case names', () => {
    expect(
      messages({
        nodes: [
          { name: 'snake_case', type: 'static', values: { x: 1 } },
          { name: 'kebab-case', type: 'static', values: { x: 1 } },
          { name: 'UPPER_1', type: 'static', values: { x: 1 } },
        ],
      }),
    ).toEqual([]);
  });
});

describe('connections', () => {
  it('unknown node and unknown fields', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'jq', jq: '.', input: 'NOPE' },
          { name: 'B', type: 'exit', inputs: { body: 'request.nope' } },
          { name: 'C', type: 'exit', inputs: { nope: 'request.body' } },
          { name: 'D', type: 'jq', jq: '.', output: 'request.body' },
        ],
      }),
    ).toEqual([
      'invalid connection ("NOPE" -> "A"): unknown node "NOPE"',
      'invalid connection ("request.nope" -> "B.body"): node "request" has no output "nope"',
      'invalid connection ("request.body" -> "C.nope"): node "C" has no input "nope"',
      'invalid connection ("D" -> "request.body"): node "request" has no input "body"',
    ]);
  });

  it('a node cannot connect to itself', () => {
    expect(messages({ nodes: [{ name: 'A', type: 'jq', jq: '.', input: 'A' }] })).toEqual([
      'invalid connection ("A" -> "A"): node cannot connect to itself',
    ]);
  });

  it('object -> object node-wise connects the common fields; none in common is an error', () => {
    // request -> call: body, headers, query; call -> service_request: body, headers
    expect(
      messages({ nodes: [{ name: 'CALL', type: 'call', url: 'http://127.0.0.1/', input: 'request', output: 'service_request' }] }),
    ).toEqual([]);
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { unrelated: 1 } },
          { name: 'EXIT', type: 'exit', input: 'S' },
        ],
      }),
    ).toEqual(['invalid connection ("S" -> "EXIT"): no fields in common between "S" and "EXIT"']);
  });

  it('a node-wise any -> object connection conflicts with field-level connections', () => {
    expect(
      messages({
        nodes: [
          { name: 'J', type: 'jq', jq: '{body: 1}' },
          { name: 'EXIT', type: 'exit', input: 'J', inputs: { body: 'request.body' } },
        ],
      }),
    ).toEqual(['invalid connection ("J" -> "EXIT"): conflicts with existing connection ("request.body" -> "EXIT.body")']);
  });

  it('known incompatible types are rejected, convertible ones accepted', () => {
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { n: 5, s: '5', h: 'oops', o: { a: 'b' } } },
          { name: 'C1', type: 'call', url: 'http://127.0.0.1/', inputs: { headers: 'S.n' } },
          { name: 'C2', type: 'call', url: 'http://127.0.0.1/', inputs: { headers: 'S.h' } },
          { name: 'C3', type: 'call', url: 'http://127.0.0.1/', inputs: { url: 'S.n', headers: 'S.o' } },
          { name: 'B', type: 'branch', input: 'S.s' },
        ],
      }),
    ).toEqual([
      'invalid connection ("S.n" -> "C1.headers"): type mismatch: number -> map',
      'invalid connection ("S.h" -> "C2.headers"): type mismatch: string -> map',
      'invalid connection ("S.s" -> "B"): type mismatch: string -> boolean',
    ]);
  });

  it('static values are checked against the ports they feed', () => {
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { headers: 'oops' } },
          { name: 'C', type: 'call', url: 'http://127.0.0.1/', input: 'S' },
        ],
      }),
    ).toEqual(['invalid connection ("S" -> "C"): type mismatch: string -> map (field "headers")']);
  });

  it('$self is the node-wise label', () => {
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { a: 1 } },
          { name: 'J', type: 'jq', jq: '.', input: 'S.$self' },
        ],
      }),
    ).toEqual([]);
  });
});

describe('attributes', () => {
  it('call: url required and well formed, method uppercase, timeout range', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'call' },
          { name: 'B', type: 'call', url: 'ftp://x' },
          { name: 'C', type: 'call', url: 'http://' },
          { name: 'D', type: 'call', url: 'http://h:99999/' },
          { name: 'E', type: 'call', url: 'http://h/', method: 'get' },
          { name: 'F', type: 'call', url: 'http://h/', timeout: -1 },
          { name: 'G', type: 'call', url: 'http://h/', timeout: 1.5 },
          { name: 'H', type: 'call', url: 'http://h/', ssl_verify: 'yes' },
        ],
      }),
    ).toEqual([
      'node #1 (A): url: required field missing',
      'node #2 (B): url: invalid url "ftp://x": missing or unsupported scheme (expected http:// or https://)',
      'node #3 (C): url: invalid url "http://": missing host',
      'node #4 (D): url: invalid url "http://h:99999/": invalid port',
      'node #5 (E): method: invalid method "get" (uppercase letters only)',
      'node #6 (F): timeout: value should be between 0 and 2147483646',
      'node #7 (G): timeout: expected an integer',
      'node #8 (H): ssl_verify: expected a boolean',
    ]);
  });

  it('exit: status 200..599', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'exit', status: 199 },
          { name: 'B', type: 'exit', status: 600 },
          { name: 'C', type: 'exit', status: 599 },
        ],
      }),
    ).toEqual(['node #1 (A): status: value should be between 200 and 599', 'node #2 (B): status: value should be between 200 and 599']);
  });

  it('unknown fields and wrong shapes', () => {
    expect(
      messages({
        foo: 1,
        nodes: [
          { name: 'A', type: 'static', values: 'x' },
          { name: 'B', type: 'jq', jq: '.', bogus: true },
          { name: 'C', type: 'property' },
          { name: 'D', type: 'branch', then: 'X' },
        ],
      }),
    ).toEqual([
      'foo: unknown field',
      'node #1 (A): values: expected an object',
      'node #2 (B): bogus: unknown field',
      'node #3 (C): property: required field missing',
      'node #4 (D): then: expected an array of node names',
    ]);
  });

  it('nodes is required and non-empty', () => {
    expect(messages({})).toEqual(['nodes: expected an array of nodes']);
    expect(messages({ nodes: [] })).toEqual(['nodes: at least one node is required']);
  });

  it('property: writing an unknown or read-only property is a configuration error', () => {
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { v: 'x' } },
          { name: 'P1', type: 'property', property: 'kong.client.ip', input: 'S.v' },
          { name: 'P2', type: 'property', property: 'kong.made.up', input: 'S.v' },
          { name: 'P3', type: 'property', property: 'kong.ctx.shared.ok', input: 'S.v' },
          { name: 'P4', type: 'property', property: 'kong.made.up' },
        ],
      }),
    ).toEqual([
      'node #2 (P1): property: cannot set "kong.client.ip" (unknown or read-only property)',
      'node #3 (P2): property: cannot set "kong.made.up" (unknown or read-only property)',
    ]);
  });

  it('branch lists must name existing nodes', () => {
    expect(
      messages({
        nodes: [
          { name: 'J', type: 'jq', jq: 'true' },
          { name: 'B', type: 'branch', input: 'J', then: ['NOPE'], else: ['J'] },
        ],
      }),
    ).toEqual([
      'node #2 (B): then: unknown node "NOPE"',
      // reported in the same run now: B waits for J, and J (listed by B) waits for B
      'invalid dependency (node #1 (J) -> node #2 (B)): circular dependency',
    ]);
  });

  it('resources.vault takes vault references', () => {
    expect(messages({ resources: { vault: { a: 'plain' } }, nodes: [{ name: 'J', type: 'jq', jq: '.', input: 'vault.a' }] })).toEqual([
      'resources.vault.a: invalid vault reference "plain"',
    ]);
  });

  it('a template that does not compile', () => {
    expect(messages({ nodes: [{ name: 'T', type: 'handlebars', template: 'Hello {{#if}}' }] })[0]).toMatch(/^node #1 \(T\): template: /);
  });

  it('a jq filter that does not compile', () => {
    expect(messages({ nodes: [{ name: 'J', type: 'jq', jq: '.a | | .b' }] })[0]).toMatch(/^node #1 \(J\): jq: .*syntax error/);
  });
});

describe('both config shapes', () => {
  it('3.10 list-shaped inputs/outputs load and bind inputs as jq variables', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'S', type: 'static', values: { a: 'x', b: 'y' } },
        { name: 'J', type: 'jq', inputs: [{ first: 'S.a' }, { second: 'S.b' }], jq: '{v: ($first + $second), w: (.first + .second)}', outputs: [{ out: 'EXIT.body' }] },
        { name: 'EXIT', type: 'exit' },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(JSON.parse(Buffer.from(r.response.body).toString())).toEqual({ v: 'xy', w: 'xy' });
  });

  it('accepts a plugin entry and YAML text', () => {
    expect(dk.validate({ name: 'datakit', config: { nodes: [{ name: 'S', type: 'static', values: { a: 1 } }] } } as object)).toEqual([]);
    expect(dk.validate('nodes:\n- name: S\n  type: static\n  values: {a: 1}\n')).toEqual([]);
    expect(dk.validate('nodes: [\n')[0].message).toMatch(/^invalid YAML\/JSON/);
  });

  it('load throws DatakitConfigError with every error', () => {
    try {
      dk.load({ nodes: [{ name: 'A', type: 'x' }, { name: 'B', type: 'y' }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DatakitConfigError);
      expect((e as DatakitConfigError).errors).toHaveLength(2);
    }
  });
});
