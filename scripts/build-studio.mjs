#!/usr/bin/env node
// Builds the flow studio page (host/studio) into build/studio/index.html:
// one file with its script and styles inline, so the page needs nothing
// else but the engine (/studio/datakit.wasm) and works offline. The
// bundle's import graph is kept in build/studio/meta.json (the browser host
// must not reach host/engine or host/flow.ts: test/studio/bundle.test.ts).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const studio = join(root, 'host', 'studio');
// --outdir DIR: build elsewhere (the bundle test inspects a build of its own)
const at = process.argv.indexOf('--outdir');
const out = at > 0 ? process.argv[at + 1] : join(root, 'build', 'studio');
const require = createRequire(import.meta.url);

// host/jq imports node:vm (regex time budget); the page gets a stand-in
// (and Buffer, below).
// Templates use Handlebars' own browser build.
const browserAliases = {
  name: 'studio-browser-aliases',
  setup(b) {
    b.onResolve({ filter: /^node:vm$/ }, () => ({ path: join(studio, 'shims', 'vm.ts') }));
    b.onResolve({ filter: /^handlebars$/ }, () => ({ path: require.resolve('handlebars/dist/handlebars.js') }));
  },
};

const result = await build({
  entryPoints: [join(studio, 'page.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  metafile: true,
  legalComments: 'none',
  plugins: [browserAliases],
  // host/jq uses Node's Buffer global
  inject: [join(studio, 'shims', 'buffer.ts')],
  logLevel: 'warning',
});

const js = result.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const css = readFileSync(join(studio, 'studio.css'), 'utf8');
const html = readFileSync(join(studio, 'index.html'), 'utf8')
  .replace('/*STUDIO_CSS*/', () => css)
  .replace('/*STUDIO_JS*/', () => js);
mkdirSync(out, { recursive: true });
// written whole, then renamed: a server reading the page never sees half of it
const write = (name, text) => {
  const tmp = join(out, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(out, name));
};
write('index.html', html);
write('meta.json', JSON.stringify(result.metafile));
console.log(`${join(out, 'index.html')}: ${(html.length / 1024).toFixed(0)} KiB`);
