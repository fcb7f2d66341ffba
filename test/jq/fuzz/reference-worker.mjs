// Worker thread running the reference jq (jq-wasm, jq 1.7.1) for the fuzzer.
// The package's wrapper returns stdout or (only when stdout is empty) stderr,
// so outputs printed before an error would hide the error. This worker loads
// the package's Emscripten factory from its source with rawImpl patched to
// return both streams (collected into plain arrays: the original copies the
// whole buffer per byte). A hang or crash of jq stays in this thread: the
// parent terminates it on a timeout and starts another.
import { parentPort } from 'node:worker_threads';
import { createRequire, Module } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const path = require.resolve('jq-wasm/dist/build/jq.js');
/** bytes of stdout/stderr kept per run; the rest is dropped and the run flagged */
const OUTPUT_CAP = 256 * 1024;
/** runs per wasm instance: one instance aborts after ~314 evaluations */
const RECYCLE = 200;

function patchedFactory() {
  let src = readFileSync(path, 'utf8');
  const replaceOnce = (re, by) => {
    const next = src.replace(re, by);
    if (next === src) throw new Error(`jq-wasm patch failed: ${re}`);
    src = next;
  };
  for (const stream of ['stdout', 'stderr']) {
    replaceOnce(
      new RegExp(`const tmp = new Uint8Array\\(${stream}Buffer\\.length \\+ 1\\);\\s*tmp\\.set\\(${stream}Buffer, 0\\);\\s*tmp\\[tmp\\.length - 1\\] = charCode;\\s*${stream}Buffer = tmp;`),
      `if (globalThis.__jqfuzz.${stream}.length < ${OUTPUT_CAP}) globalThis.__jqfuzz.${stream}.push(charCode); else globalThis.__jqfuzz.truncated = true;`,
    );
  }
  replaceOnce(
    'Module.callMain([...flags, query, "/dev/stdin"]);',
    'globalThis.__jqfuzz.stdout = []; globalThis.__jqfuzz.stderr = []; globalThis.__jqfuzz.truncated = false; ' +
      'Module.callMain([...flags, query, "/dev/stdin"]); ' +
      'return { out: fromByteArray(new Uint8Array(globalThis.__jqfuzz.stdout)), err: fromByteArray(new Uint8Array(globalThis.__jqfuzz.stderr)), truncated: globalThis.__jqfuzz.truncated };',
  );
  const m = new Module(path);
  m.filename = path;
  m.paths = Module._nodeModulePaths(dirname(path));
  m._compile(src, path);
  return m.exports;
}

globalThis.__jqfuzz = { stdout: [], stderr: [], truncated: false };
const factory = patchedFactory();
let instance = null;
let calls = 0;

// silence what the Emscripten runtime prints on aborts (the parent gets the error)
console.error = () => {};
console.warn = () => {};

parentPort.on('message', async ({ id, input, filter }) => {
  try {
    if (!instance || calls >= RECYCLE) {
      instance = await factory();
      calls = 0;
    }
    calls++;
    const r = await instance.raw(input, filter, ['-c']);
    parentPort.postMessage({ id, ...r });
  } catch (e) {
    instance = null; // an aborted instance is unusable
    parentPort.postMessage({ id, crash: String(e && e.message ? e.message : e) });
  }
});
parentPort.postMessage({ ready: true });
