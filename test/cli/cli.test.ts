// The datakit command, run as a real process (compiled code).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, runCli } from '../helpers/cli.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

const GALLERY = resolve(__dirname, '../../examples/flows');

/** A third-party auth flow: the api_key query argument buys a token, sent upstream as Authorization. */
const authFlow = (tokenUrl: string) => `nodes:
- name: STATIC_INPUTS
  type: static
  values: {grant: client_credentials}
- name: BUILD_HEADERS
  type: jq
  input: request.query
  jq: '{"X-Api-Key": .api_key}'
- name: AUTH_REQUEST
  type: call
  method: POST
  url: ${tokenUrl}
  inputs: {body: STATIC_INPUTS, headers: BUILD_HEADERS}
- name: UPSTREAM_AUTH_HEADER
  type: jq
  input: AUTH_REQUEST.body
  jq: '{"Authorization": "\\(.token_type) \\(.access_token)"}'
  output: service_request.headers
`;
let dir: string;
let api: TestServer;

const datakit = runCli;

beforeAll(async () => {
  buildHost();
  dir = mkdtempSync(join(tmpdir(), 'dk-cli-'));
  api = await startServer((req, res) => json(res, 200, { token_type: 'Bearer', access_token: 'cli-token', seen: req.headers['x-api-key'] }));
}, 150_000);
afterAll(async () => {
  await api.close();
});

describe('datakit validate', () => {
  it('accepts gallery flows and a declarative file', async () => {
    for (const f of ['third-party-auth.yaml', 'cache-user-profile.yaml', 'sign-consumer-token.yaml', 'xml-catalog-to-json.yaml']) {
      const r = await datakit(['validate', join(GALLERY, f)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('ok');
    }
    const decl = join(dir, 'kong.yaml');
    writeFileSync(decl, `_format_version: "3.0"\nplugins:\n- name: datakit\n  config:\n    nodes:\n    - name: S\n      type: static\n      values: {a: 1}\n`);
    const r = await datakit(['validate', decl]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kong.yaml: ok');
  });

  it('exits 1 with every error, node by node', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `nodes:\n- name: A\n  type: call\n  url: ftp://x\n- name: B\n  type: nope\n- name: C\n  type: jq\n  jq: "."\n  input: MISSING\n`);
    const r = await datakit(['validate', bad]);
    expect(r.code).toBe(1);
    // every stage in one run: the connection error is no longer hidden by the earlier ones
    expect(r.stderr).toContain('3 errors');
    expect(r.stderr).toContain('node #1 (A): url: invalid url "ftp://x"');
    expect(r.stderr).toContain('node #2 (B): type: unknown node type "nope"');
    expect(r.stderr).toContain('10:10: invalid connection ("MISSING" -> "C"): unknown node "MISSING"');
  });

  it('malformed YAML is a clear error', async () => {
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, 'nodes: [\n  - {name: a\n');
    const r = await datakit(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n {2}\d+:\d+: invalid YAML: /);
  });
});

describe('datakit run', () => {
  it('runs a flow once with real calls and prints the client response and service request', async () => {
    const flow = join(dir, 'auth.yaml');
    writeFileSync(flow, authFlow(`${api.url}/auth-token`));
    const req = join(dir, 'req.json');
    writeFileSync(req, JSON.stringify({ method: 'GET', path: '/x', query: { api_key: 'k9' }, upstream: { status: 201, body: { up: true } } }));
    const r = await datakit(['run', flow, '--request', req]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe(201);
    expect(out.body).toEqual({ up: true });
    expect(out.service_request.headers.Authorization).toBe('Bearer cli-token');
    expect(api.received.at(-1)!.headers['x-api-key']).toBe('k9');
  });

  it('--trace prints the debug trace', async () => {
    const flow = join(dir, 'exit.yaml');
    writeFileSync(flow, 'nodes:\n- name: S\n  type: static\n  values: {body: hi}\n- name: E\n  type: exit\n  input: S\n');
    const r = await datakit(['run', flow, '--trace']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(t.status).toBe('PLAN_COMPLETE');
    expect(t.nodes.map((n: { name: string }) => n.name)).toEqual(['S', 'E', 'request', 'response']);
  });
});

describe('datakit bench', () => {
  it('runs a flow N times with mocked calls and reports per-node times', async () => {
    const flow = join(dir, 'bench-auth.yaml');
    writeFileSync(flow, authFlow('https://my-token-service/auth-token'));
    const mocks = join(dir, 'mocks.json');
    writeFileSync(mocks, JSON.stringify({ 'POST https://my-token-service/auth-token': { body: { token_type: 'Bearer', access_token: 't' } } }));
    const r = await datakit(['bench', flow, '-n', '200', '-c', '8', '--mock-calls', mocks, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.requests).toBe(200);
    expect(rep.failures).toBe(0);
    expect(rep.nodes.map((n: { name: string; runs: number }) => [n.name, n.runs])).toEqual([
      ['STATIC_INPUTS', 200],
      ['BUILD_HEADERS', 200],
      ['AUTH_REQUEST', 200],
      ['UPSTREAM_AUTH_HEADER', 200],
    ]);
    for (const n of rep.nodes) expect(n.p99_ms).toBeGreaterThanOrEqual(n.median_ms);
  });

  it('reports failures', async () => {
    const flow = join(dir, 'bench-fail.yaml');
    writeFileSync(flow, 'nodes:\n- name: C\n  type: call\n  url: http://127.0.0.1:1/x\n');
    const mocks = join(dir, 'mocks-fail.json');
    writeFileSync(mocks, JSON.stringify({ '*': { status: 503 } }));
    const r = await datakit(['bench', flow, '-n', '20', '--mock-calls', mocks]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failures 20/);
    expect(r.stdout).toContain('failure x20: non-2XX response code: 503');
  });
});

describe('datakit jq and help', () => {
  it('dispatches jq', async () => {
    const r = await datakit(['jq', '-c', '.a'], '{"a":[1,2]}');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('[1,2]');
  });

  it('unknown commands exit 2 with usage', async () => {
    const r = await datakit(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: datakit');
  });
});

describe('command-line conventions', () => {
  it('--version prints the package version', async () => {
    const r = await datakit(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`datakit ${JSON.parse((await import('node:fs')).readFileSync(join(__dirname, '../../package.json'), 'utf8')).version}`);
  });

  it('every command answers -h and --help with its usage, exit 0', async () => {
    for (const cmd of ['validate', 'run', 'bench', 'jq', 'serve']) {
      for (const flag of ['-h', '--help']) {
        const r = await datakit([cmd, flag]);
        expect(r.code, `${cmd} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain(`usage: datakit ${cmd}`);
      }
    }
  });

  it('an unknown option or a missing operand is a usage error, exit 2', async () => {
    for (const args of [['run'], ['run', 'a.yaml', '--bogus'], ['bench', 'a.yaml', '-n', 'x'], ['validate'], ['validate', 'a', 'b']]) {
      const r = await datakit(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^datakit: /);
    }
  });

  it('run reads the flow from standard input with -', async () => {
    const r = await datakit(['run', '-'], 'nodes:\n- name: S\n  type: static\n  values: {hello: stdin}\n- name: E\n  type: exit\n  status: 202\n  inputs: {body: S}\n');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe(202);
    expect(out.body).toEqual({ hello: 'stdin' });
  });
});
