// One validation run reports every error of every stage (node types and
// attributes, connections, cycles, jq and template compile errors), with
// "did you mean" hints and complete, one-line jq and template errors.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { engine } from '../helpers/engine.js';
import { buildHost, root, runCli } from '../helpers/cli.js';

let dk: Datakit;
beforeAll(async () => {
  dk = await engine();
});

const messages = (cfg: object) => dk.validate(cfg).map((e) => e.message);

describe('every stage in one run', () => {
  it('type, attribute, connection, type-mismatch, cycle, jq and template errors together', () => {
    expect(
      messages({
        nodes: [
          { name: 'GET_TOKEN', type: 'call', url: 'https://auth.test/token', ur1: 'x' },
          { name: 'X', type: 'cal', url: 'https://auth.test/x' },
          { name: 'J', type: 'jq', jq: '.a |', input: 'GET_TOKN.body' },
          { name: 'E', type: 'exit', inputs: { heders: 'GET_TOKEN.headers', body: 'S.txt' } },
          { name: 'S', type: 'static', values: { txt: 'x', h: 'oops' } },
          { name: 'C', type: 'call', url: 'http://h/', inputs: { headers: 'S.h' } },
          { name: 'T', type: 'handlebars', template: 'Hello {{#if}}' },
          { name: 'A', type: 'jq', jq: '.', input: 'B' },
          { name: 'B', type: 'jq', jq: '.', input: 'A' },
          // X could not be read: its own error says so, the connection to it adds nothing
          { name: 'K', type: 'jq', jq: '.', input: 'X' },
        ],
      }),
    ).toEqual([
      'node #1 (GET_TOKEN): ur1: unknown field (did you mean "url"?)',
      'node #2 (X): type: unknown node type "cal" (did you mean "call"?)',
      'invalid connection ("GET_TOKN.body" -> "J"): unknown node "GET_TOKN" (did you mean "GET_TOKEN"?)',
      'invalid connection ("GET_TOKEN.headers" -> "E.heders"): node "E" has no input "heders" (did you mean "headers"?)',
      'invalid connection ("S.h" -> "C.headers"): type mismatch: string -> map',
      'invalid dependency (node #8 (A) -> node #9 (B)): circular dependency',
      'node #3 (J): jq: syntax error, unexpected end of file at <top-level>, line 1: .a |',
      `node #7 (T): template: Parse error on line 1: "Hello {{#if}}": Expecting 'COMMENT', 'CONTENT', 'OPEN_RAW_BLOCK', 'OPEN_BLOCK', 'OPEN_INVERSE', 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', 'OPEN', 'OPEN_UNESCAPED', 'OPEN_PARTIAL', 'OPEN_PARTIAL_BLOCK', got 'EOF'`,
    ]);
  });

  it('a type mismatch no longer hides a jq compile error', () => {
    expect(
      messages({
        nodes: [
          { name: 'J', type: 'jq', jq: '{a: }', output: 'service_request.headers' },
          { name: 'C', type: 'call', url: 'http://h/', output: 'service_request.headers' },
        ],
      }),
    ).toEqual([
      'invalid connection ("C" -> "service_request.headers"): type mismatch: object -> map',
      "node #1 (J): jq: syntax error, unexpected '}' at <top-level>, line 1: {a: }",
    ]);
  });

  it('every cycle is reported, and the compile errors with them', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'jq', jq: '.', input: 'B' },
          { name: 'B', type: 'jq', jq: '.', input: 'A' },
          { name: 'C', type: 'jq', jq: '.', input: 'D' },
          { name: 'D', type: 'jq', jq: '.[', input: 'C' },
        ],
      }),
    ).toEqual([
      'invalid dependency (node #1 (A) -> node #2 (B)): circular dependency',
      'invalid dependency (node #3 (C) -> node #4 (D)): circular dependency',
      'node #4 (D): jq: syntax error, unexpected end of file at <top-level>, line 1: .[',
    ]);
  });

  it('nodes with a bad name are still checked', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'static', values: { x: 1 } },
          { name: 'A', type: 'jq', jq: '.a |', colour: 'red' },
          { name: 'request', type: 'handlebars', template: '{{#if}}' },
        ],
      }),
    ).toEqual([
      'node #2: name: duplicate node name "A"',
      'node #2 (A): colour: unknown field',
      'node #3: name: "request" is a reserved node name',
      'node #2 (A): jq: syntax error, unexpected end of file at <top-level>, line 1: .a |',
      expect.stringMatching(/^node #3 \(request\): template: Parse error on line 1: /),
    ]);
  });
});

describe('only what an earlier error left unknown is skipped', () => {
  it('connections to a node that could not be read', () => {
    expect(
      messages({
        nodes: [
          { name: 'LOST', type: 'lambda' },
          { name: 'NOTYPE' },
          { name: 'J', type: 'jq', jq: '.', input: 'LOST.body', output: 'NOTYPE.x' },
          { name: 'B', type: 'branch', input: 'request.method', then: ['LOST'] },
        ],
      }),
    ).toEqual([
      'node #1 (LOST): type: unknown node type "lambda"',
      'node #2 (NOTYPE): type: required field missing',
      // the branch input is a real mismatch, found in the same run
      'invalid connection ("request.method" -> "B"): type mismatch: string -> boolean',
    ]);
  });

  it('the ports of a static node with bad values, of a vault with a bad reference, of malformed inputs', () => {
    expect(
      messages({
        // K's list-shaped inputs would select 3.10's error wording (docs/compat.md)
        dialect: '3.11',
        resources: { vault: { key: 'plain' } },
        nodes: [
          { name: 'S', type: 'static', values: ['not', 'an', 'object'] },
          { name: 'J', type: 'jq', jq: '.', inputs: { a: 'S.a', k: 'vault.key' } },
          { name: 'K', type: 'jq', jq: '$first + $second', inputs: [{ first: 'request.path' }, 42] },
          { name: 'E', type: 'exit', inputs: { body: 'K.first' } },
        ],
      }),
    ).toEqual([
      'resources.vault.key: invalid vault reference "plain"',
      'node #1 (S): values: expected an object',
      'node #3 (K): inputs: invalid list value',
    ]);
  });

  it('a flow with no errors still loads and runs', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'S', type: 'static', values: { a: 'x' } },
        { name: 'J', type: 'jq', jq: '{v: .a}', input: 'S' },
        { name: 'E', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(JSON.parse(Buffer.from(r.response.body).toString())).toEqual({ v: 'x' });
  });
});

describe('did you mean', () => {
  it('unknown node types', () => {
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'cal' },
          { name: 'B', type: 'jwt_verfy' },
          { name: 'C', type: 'Static' },
          { name: 'D', type: 'xq' }, // two characters: too short to guess
          { name: 'E', type: 'lambda' }, // nothing close
        ],
      }),
    ).toEqual([
      'node #1 (A): type: unknown node type "cal" (did you mean "call"?)',
      'node #2 (B): type: unknown node type "jwt_verfy" (did you mean "jwt_verify"?)',
      'node #3 (C): type: unknown node type "Static" (did you mean "static"?)',
      'node #4 (D): type: unknown node type "xq"',
      'node #5 (E): type: unknown node type "lambda"',
    ]);
  });

  it('unknown node names in connections and branches', () => {
    expect(
      messages({
        nodes: [
          { name: 'GET_TOKEN', type: 'call', url: 'http://h/' },
          { name: 'J', type: 'jq', jq: '.', input: 'GET_TOKN.body' },
          { name: 'K', type: 'jq', jq: '.', input: 'get_token.body' },
          { name: 'L', type: 'jq', jq: '.', input: 'requst.headers' },
          { name: 'M', type: 'jq', jq: '.', output: 'GET_TOKENS.body' },
          { name: 'B', type: 'branch', input: 'N', then: ['GET_TOKE'] },
          { name: 'N', type: 'jq', jq: 'true' },
          { name: 'O', type: 'jq', jq: '.', input: 'ZZZZZZ' },
        ],
      }),
    ).toEqual([
      'invalid connection ("GET_TOKN.body" -> "J"): unknown node "GET_TOKN" (did you mean "GET_TOKEN"?)',
      'invalid connection ("get_token.body" -> "K"): unknown node "get_token" (did you mean "GET_TOKEN"?)',
      'invalid connection ("requst.headers" -> "L"): unknown node "requst" (did you mean "request"?)',
      'invalid connection ("ZZZZZZ" -> "O"): unknown node "ZZZZZZ"',
      // outputs are resolved after inputs
      'invalid connection ("M" -> "GET_TOKENS.body"): unknown node "GET_TOKENS" (did you mean "GET_TOKEN"?)',
      'node #6 (B): then: unknown node "GET_TOKE" (did you mean "GET_TOKEN"?)',
    ]);
  });

  it('unknown fields and attributes', () => {
    expect(
      messages({
        node: [],
        resources: { vualt: {} },
        nodes: [
          { name: 'A', type: 'call', ur1: 'http://h/', methd: 'GET' },
          { name: 'B', type: 'jq', jq: '.', inptus: { a: 'A.body' } },
          { name: 'C', type: 'exit', colour: 'red' },
        ],
      }),
    ).toEqual([
      'node: unknown field (did you mean "nodes"?)',
      'resources.vualt: unknown field (did you mean "vault"?)',
      'node #1 (A): ur1: unknown field (did you mean "url"?)',
      'node #1 (A): methd: unknown field (did you mean "method"?)',
      'node #1 (A): url: required field missing',
      'node #2 (B): inptus: unknown field (did you mean "inputs"?)',
      'node #3 (C): colour: unknown field',
    ]);
  });

  it('unknown ports, on both ends', () => {
    expect(
      messages({
        nodes: [
          { name: 'S', type: 'static', values: { aaa1: 1, aaa2: 2 } },
          { name: 'E', type: 'exit', inputs: { heders: 'request.heders', bdy: 'S.aaa3' } },
          { name: 'J', type: 'jq', jq: '.', inputs: { payload: 'request.body' }, output: 'E.headers' },
          { name: 'K', type: 'jq', jq: '.', output: 'J.paylod' },
        ],
      }),
    ).toEqual([
      'invalid connection ("request.heders" -> "E.heders"): node "request" has no output "heders" (did you mean "headers"?)',
      // two candidates as close: no guess
      'invalid connection ("S.aaa3" -> "E.bdy"): node "S" has no output "aaa3"',
      'invalid connection ("K" -> "J.paylod"): node "J" has no input "paylod" (did you mean "payload"?)',
    ]);
  });
});

describe('jq compile errors are complete', () => {
  it('the whole message with the line it points at, without the shell-quoting hint', () => {
    const errs = messages({
      nodes: [
        { name: 'J', type: 'jq', jq: '.a |' },
        { name: 'K', type: 'jq', jq: '.a\n| $nope\n| .b' },
        { name: 'L', type: 'jq', jq: '.a | | .b' },
        { name: 'M', type: 'jq', jq: 'nosuchfn(1)' },
        // a YAML block scalar ends with a newline: the error is on the blank line after the text
        { name: 'N', type: 'jq', jq: '{a: 1} |\n' },
      ],
    });
    expect(errs).toEqual([
      'node #1 (J): jq: syntax error, unexpected end of file at <top-level>, line 1: .a |',
      'node #2 (K): jq: $nope is not defined at <top-level>, line 2: | $nope',
      "node #3 (L): jq: syntax error, unexpected '|' at <top-level>, line 1: .a | | .b",
      'node #4 (M): jq: nosuchfn/1 is not defined at <top-level>, line 1: nosuchfn(1)',
      'node #5 (N): jq: syntax error, unexpected end of file at <top-level>, line 2, after: {a: 1} |',
    ]);
    for (const e of errs) expect(e).not.toContain('Unix shell quoting issues');
  });

  it('the library error keeps node, type and field', () => {
    expect(dk.validate({ nodes: [{ name: 'J', type: 'jq', jq: '.a |' }] })).toEqual([
      {
        message: 'node #1 (J): jq: syntax error, unexpected end of file at <top-level>, line 1: .a |',
        node: { index: 1, name: 'J', type: 'jq' },
        field: 'jq',
      },
    ]);
  });
});

describe('datakit validate', () => {
  beforeAll(() => {
    // the command runs the compiled host (npm run build:ts); compile it when it is missing
    if (!existsSync(join(root, 'dist/host/cli/main.js'))) buildHost();
  }, 180_000);

  it('prints every error of a file in one run, each at its line and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-validate-all-'));
    const file = join(dir, 'flow.yaml');
    writeFileSync(
      file,
      [
        'nodes:',
        '- name: GET_TOKEN', //  2
        '  type: cal', //        3
        '  url: https://auth.test/token',
        '- name: FILTER', //     5
        '  type: jq',
        "  jq: '.a |'", //       7
        '  input: GET_TOKN.body', // 8
        '- name: EXIT', //       9
        '  type: exit',
        '  inputs:',
        '    heders: FILTER', // 12
        '    body: request.headers',
        '- name: CALL', //      14
        '  type: call',
        '  url: http://h/',
        '  inputs:',
        '    headers: request.path', // 18
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `${file}: 5 errors`,
        '  3:9: node #1 (GET_TOKEN): type: unknown node type "cal" (did you mean "call"?)',
        '  7:7: node #2 (FILTER): jq: syntax error, unexpected end of file at <top-level>, line 1: .a |',
        '  8:10: invalid connection ("GET_TOKN.body" -> "FILTER"): unknown node "GET_TOKN" (did you mean "GET_TOKEN"?)',
        '  12:13: invalid connection ("FILTER" -> "EXIT.heders"): node "EXIT" has no input "heders" (did you mean "headers"?)',
        '  18:14: invalid connection ("request.path" -> "CALL.headers"): type mismatch: string -> map',
        '',
      ].join('\n'),
    );
  }, 60_000);
});
