// The host conformance kit against examples/minimal-host.mjs, the host
// written from docs/host-abi.md alone (spawned as a user runs it).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCases, runCase } from './runner.js';
import { minimalHost } from './hosts.js';

const SCRIPT = fileURLToPath(new URL('../../examples/minimal-host.mjs', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }));
  });
}

const host = minimalHost();

describe(`host conformance kit: ${host.name}`, () => {
  afterAll(() => host.close?.());

  it('runs a flow without a request file (GET /), and prints its usage without a flow (exit 2)', async () => {
    const flow = join(mkdtempSync(join(tmpdir(), 'dk-minimal-')), 'flow.yaml');
    writeFileSync(flow, 'nodes:\n  - name: M\n    type: jq\n    input: request.method\n    jq: "{method: .}"\n  - name: OUT\n    type: exit\n    inputs:\n      body: M\n');
    const ok = await run([flow]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 200, body: { method: 'GET' } });
    const usage = await run([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: node examples/minimal-host.mjs FLOW.yaml [--request request.json]');
  });

  for (const c of loadCases()) {
    it(`${c.name}: ${c.description}`, async () => {
      const { actual, expected } = await runCase(host, c);
      expect(actual).toEqual(expected);
    });
  }
});
