#!/usr/bin/env node
// Builds the engine: `asc assembly/index.ts` with the asconfig.json target
// given as argv (e.g. --target release), after swapping the allocator front
// end of the minimal runtime for assembly/rt/small-blocks.ts (see there for
// why). The swap fails the build loudly if the standard library changed shape.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const TLSF = 'rt/tlsf';
const original = asc.libraryFiles[TLSF];
if (typeof original !== 'string') throw new Error(`assemblyscript has no ~lib/${TLSF}`);

let patched = original;
for (const [from, to] of [['__alloc', 'tlsfAlloc'], ['__realloc', 'tlsfRealloc'], ['__free', 'tlsfFree']]) {
  const decl = `export function ${from}(`;
  if (patched.split(decl).length !== 2) throw new Error(`~lib/${TLSF}: expected one "${decl}"`);
  patched = patched.replace(decl, `export function ${to}(`);
}
const frontEnd = readFileSync(fileURLToPath(new URL('../assembly/rt/small-blocks.ts', import.meta.url)), 'utf8');
asc.libraryFiles[TLSF] = `${patched}\n// ---- assembly/rt/small-blocks.ts ----\n${frontEnd}`;

const { error, stderr } = await asc.main(['assembly/index.ts', ...process.argv.slice(2)], { stdout: process.stdout, stderr: process.stderr });
if (error) {
  process.stderr.write(String(stderr ?? ''));
  process.exit(1);
}
