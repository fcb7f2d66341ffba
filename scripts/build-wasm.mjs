#!/usr/bin/env node
// Builds the engine: `asc assembly/index.ts` with the asconfig.json target
// given as argv (e.g. --target release), after adding two front ends to the
// minimal runtime: assembly/rt/small-blocks.ts before the TLSF allocator and
// assembly/rt/arena.ts (request arenas) before the collector's object
// allocation (see those files for why). The patch fails the build loudly if
// the standard library changed shape.
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

/**
 * Renames the standard library's exported functions `from` to `to` in the
 * library file `name` and appends one of our files to it (so it sees the
 * file's internals). Fails if the library changed shape.
 */
function patchLibrary(name, renames, ourFile) {
  const original = asc.libraryFiles[name];
  if (typeof original !== 'string') throw new Error(`assemblyscript has no ~lib/${name}`);
  let patched = original;
  for (const [from, to] of renames) {
    const decl = `export function ${from}(`;
    if (patched.split(decl).length !== 2) throw new Error(`~lib/${name}: expected one "${decl}"`);
    patched = patched.replace(decl, `export function ${to}(`);
  }
  let ours = readFileSync(fileURLToPath(new URL(`../assembly/rt/${ourFile}`, import.meta.url)), 'utf8');
  // DK_ARENA_POISON=1: closed arenas are overwritten (a test build that shows stale pointers)
  if (process.env.DK_ARENA_POISON === '1') ours = ours.replace('const ARENA_POISON: bool = false', 'const ARENA_POISON: bool = true');
  asc.libraryFiles[name] = `${patched}\n// ---- assembly/rt/${ourFile} ----\n${ours}`;
}

// allocator front end: small-block free lists before TLSF
patchLibrary('rt/tlsf', [['__alloc', 'tlsfAlloc'], ['__realloc', 'tlsfRealloc'], ['__free', 'tlsfFree']], 'small-blocks.ts');
// linear memory never shrinks: past 16 MiB, grow by what is needed (plus at
// most 16 MiB), not by doubling (a 10 MB body would leave 64 MB behind)
{
  const grow = 'let pagesWanted = max(pagesBefore, pagesNeeded); // double memory';
  const tlsf = asc.libraryFiles['rt/tlsf'];
  if (tlsf.split(grow).length !== 2) throw new Error(`~lib/rt/tlsf: expected one "${grow}"`);
  asc.libraryFiles['rt/tlsf'] = tlsf.replace(grow, 'let pagesWanted = max(min(pagesBefore, 256), pagesNeeded);');
}
// object allocation: request arenas before the collector
patchLibrary('rt/tcms', [['__new', 'tcmsNew'], ['__renew', 'tcmsRenew']], 'arena.ts');

// asc's INFO notes (pedantic "expression is never null" hints) would drown a
// quiet `npm install`: keep warnings and errors, drop INFO blocks.
let diagnostics = '';
const collect = { write(chunk) { diagnostics += String(chunk); return true; } };
const { error } = await asc.main(['assembly/index.ts', ...process.argv.slice(2)], { stdout: process.stdout, stderr: collect });
const kept = diagnostics.split(/\n(?=\S)/).filter((block) => !block.startsWith('INFO ')).join('\n').trim();
if (kept) process.stderr.write(kept + '\n');
if (error) {
  process.stderr.write(`${error.message ?? error}\n`);
  process.exit(1);
}

/**
 * The ABI version as a custom section `datakit_abi` (its payload: the
 * version in decimal ASCII), so a host can check a module before
 * instantiating it (`WebAssembly.Module.customSections(m, 'datakit_abi')`).
 * The version is read from assembly/index.ts, where dk_abi_version gets it.
 */
function abiVersion() {
  const source = readFileSync(fileURLToPath(new URL('../assembly/index.ts', import.meta.url)), 'utf8');
  const m = /export const ABI_VERSION: i32 = (\d+);/.exec(source);
  if (!m) throw new Error('assembly/index.ts: expected "export const ABI_VERSION: i32 = N;"');
  return m[1];
}

/** The output file asc wrote: --outFile, else the target's in asconfig.json. */
function outFile(args) {
  const at = args.indexOf('--outFile');
  if (at >= 0) return args[at + 1];
  const config = JSON.parse(readFileSync(fileURLToPath(new URL('../asconfig.json', import.meta.url)), 'utf8'));
  const target = args[args.indexOf('--target') + 1] ?? 'release';
  return config.targets[target].outFile;
}

function leb128(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** A wasm custom section (id 0): its size, then the name, then the payload. */
function customSection(name, payload) {
  const nameBytes = Buffer.from(name, 'utf8');
  const content = Buffer.concat([Buffer.from(leb128(nameBytes.length)), nameBytes, Buffer.from(payload, 'utf8')]);
  return Buffer.concat([Buffer.from([0]), Buffer.from(leb128(content.length)), content]);
}

appendFileSync(outFile(process.argv.slice(2)), customSection('datakit_abi', abiVersion()));
