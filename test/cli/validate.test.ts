// `datakit validate` and `datakit serve` load declarative files through one
// code path: for every bad file here they report the same errors, all of
// them in one run, and validate adds where in the file each one is.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateText } from '../../host/cli/validate.js';
import { startGateway } from '../../host/gateway/index.js';
import { DeclarativeError } from '../../host/gateway/declarative.js';
import { buildHost, runCli } from '../helpers/cli.js';

const BAD: Record<string, string> = {
  'route path, duplicate service, unknown key': `_format_version: "3.0"
bogus: 1
services:
  - name: a
    url: http://127.0.0.1:9/
    routes:
      - name: r1
        paths: [nopath]
  - name: a
    url: http://127.0.0.1:9/
`,
  'datakit plugin errors among entity errors': `_format_version: "3.0"
routes:
  - name: r
    paths: [/r]
    methods: [FETCH]
plugins:
  - name: datakit
    route: r
    config:
      nodes:
        - name: X
          type: cal
          url: http://127.0.0.1:9/
`,
  'dangling references and bad limits': `_format_version: "3.0"
settings:
  limits:
    jq_time_ms: -1
routes:
  - name: r
    paths: [/r]
    service: nowhere
plugins:
  - name: key-auth
    route: missing-route
`,
  'unsupported format version': `_format_version: "9.9"
`,
};

/** The errors `serve`'s startup reports for a document. */
async function serveErrors(text: string): Promise<string[]> {
  try {
    const gw = await startGateway({ config: text, proxyListen: '127.0.0.1:0', adminListen: false, logLevel: 'silent' });
    await gw.close();
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(DeclarativeError);
    return (e as DeclarativeError).issues.map((i) => `${i.path}: ${i.message}`);
  }
}

beforeAll(() => buildHost(), 150_000);

describe('datakit validate agrees with datakit serve', () => {
  for (const [name, text] of Object.entries(BAD)) {
    it(name, async () => {
      const served = await serveErrors(text);
      const validated = await validateText(text);
      expect(served.length).toBeGreaterThan(0);
      expect(validated.map((e) => e.message).sort()).toEqual([...served].sort());
    });
  }

  it('reports every error of the first file at once, with lines and columns', async () => {
    const errors = await validateText(BAD['route path, duplicate service, unknown key']);
    expect(errors.map((e) => [e.line, e.message])).toEqual(
      expect.arrayContaining([
        [2, 'bogus: unknown field'],
        [8, 'services[0].routes[0].paths: should start with: / (fixed path) or ~/ (regex path)'],
        [9, `services[1]: duplicate: UNIQUE violation detected on '{name="a"}'`],
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  it('points a datakit node error at the node', async () => {
    const errors = await validateText(BAD['datakit plugin errors among entity errors']);
    const node = errors.find((e) => e.message.includes('unknown node type "cal"'));
    expect(node?.line).toBe(12);
  });

  it("a datakit plugin's errors are separate entries, each at its node", async () => {
    const text = `_format_version: "3.0"
plugins:
  - name: datakit
    config:
      nodes:
        - name: X
          type: cal
        - name: J
          type: jq
          jq: ".a |"
`;
    const errors = await validateText(text);
    expect(errors.map((e) => [e.line, e.message.slice(0, 40)])).toEqual([
      [7, 'plugins[0].config: node #1 (X): type: un'],
      [10, 'plugins[0].config: node #2 (J): jq: synt'],
    ]);
    expect(errors.map((e) => e.message).sort()).toEqual((await serveErrors(text)).sort());
  });

  it('a valid file is ok for both', async () => {
    const good = `_format_version: "3.0"\nroutes:\n  - name: r\n    paths: [/r]\n`;
    expect(await serveErrors(good)).toEqual([]);
    expect(await validateText(good)).toEqual([]);
  });

  it('the CLI reads standard input with -, prints line:column and exits 1', async () => {
    const r = await runCli(['validate', '-'], BAD['route path, duplicate service, unknown key']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(stdin): 3 errors');
    expect(r.stderr).toContain('  2:8: bogus: unknown field');
    const dir = mkdtempSync(join(tmpdir(), 'dk-validate-'));
    writeFileSync(join(dir, 'ok.yaml'), `_format_version: "3.0"\n`);
    const ok = await runCli(['validate', join(dir, 'ok.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok.yaml: ok');
    const help = await runCli(['validate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: datakit validate');
  });
});
