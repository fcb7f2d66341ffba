// The published package as a user gets it: `npm pack`, unpacked into a
// scratch project's node_modules, then the imports the README and the docs
// show. Only the package's own files are in the tarball; its dependencies
// resolve from the repository's node_modules (the scratch project sits
// inside the repository), so the test needs no registry.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/cli.js';

const scratch = join(root, 'test-artifacts', 'pack');
const installed = join(scratch, 'node_modules', 'datakit-wasm');

function runScript(source: string): string {
  const file = join(scratch, `check-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  try {
    return execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8', timeout: 30_000 });
  } finally {
    rmSync(file, { force: true });
  }
}

beforeAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, 'node_modules'), { recursive: true });
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  // the build is already there (npm install ran prepare): pack without re-running it
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const [info] = JSON.parse(out) as Array<{ filename: string }>;
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(scratch, info.filename), '-C', installed, '--strip-components=1']);
}, 90_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships a license, the engine and the sources its source maps name', () => {
    expect(existsSync(join(installed, 'LICENSE'))).toBe(true);
    expect(existsSync(join(installed, 'build', 'datakit.wasm'))).toBe(true);
    const maps: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.js.map')) maps.push(join(dir, e.name));
      }
    };
    walk(join(installed, 'dist'));
    expect(maps.length).toBeGreaterThan(10);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(m, 'utf8')) as { sources: string[] };
      for (const s of map.sources) expect(existsSync(join(m, '..', s)), `${m} -> ${s}`).toBe(true);
    }
  });

  it('runs a flow through the library import', () => {
    const out = runScript(`
      import { Datakit } from 'datakit-wasm';
      const dk = await Datakit.create();
      const flow = dk.load({ nodes: [
        { name: 'J', type: 'jq', jq: '{ hello: "world" }' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' }, status: 201 },
      ] });
      const r = await flow.run({ method: 'GET', path: '/' });
      console.log(r.response.status, Buffer.from(r.response.body).toString());
      await dk.close();
    `);
    expect(out.trim()).toBe('201 {"hello":"world"}');
  });

  it('runs jq through datakit-wasm/jq and finds the engine at datakit-wasm/wasm', () => {
    const out = runScript(`
      import { compile } from 'datakit-wasm/jq';
      import { createRequire } from 'node:module';
      import { existsSync } from 'node:fs';
      const wasm = createRequire(import.meta.url).resolve('datakit-wasm/wasm');
      console.log(JSON.stringify(compile('.a.b').run({ a: { b: 1 } })), existsSync(wasm));
    `);
    expect(out.trim()).toBe('[1] true');
  });

  it('starts the gateway through datakit-wasm/gateway', () => {
    const out = runScript(`
      import { startGateway } from 'datakit-wasm/gateway';
      const gw = await startGateway({
        config: { _format_version: '3.0', routes: [{ name: 'hi', paths: ['/hi'] }],
          plugins: [{ name: 'datakit', route: 'hi', config: { nodes: [{ name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'J' } }, { name: 'J', type: 'jq', jq: '"hi"' }] } }] },
        proxyListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logLevel: 'silent',
      });
      const r = await fetch(gw.proxyUrl + '/hi');
      console.log(r.status, await r.text());
      await gw.close();
    `);
    expect(out.trim()).toBe('200 hi');
  });
});
