// Reader for jq's .test suite format (the conformance folder's jq/*.test).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { jqSuiteDir } from './shared.js';

export const suiteDir = jqSuiteDir;

export type SuiteCase =
  | { kind: 'ok'; file: string; line: number; id: string; prog: string; input: string; out: string[] }
  | { kind: 'fail'; file: string; line: number; id: string; prog: string; ignoreMsg: boolean; msg: string };

export function parseSuite(file: string, text: string): SuiteCase[] {
  const lines = text.split('\n');
  const cases: SuiteCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i];
    if (l.trim() === '' || l.startsWith('#')) {
      i++;
      continue;
    }
    if (l.startsWith('%%FAIL')) {
      const line = i + 2;
      const ignoreMsg = l.includes('IGNORE MSG');
      const prog = lines[i + 1];
      i += 2;
      const msg: string[] = [];
      while (i < lines.length && lines[i].trim() !== '') msg.push(lines[i++]);
      cases.push({ kind: 'fail', file, line, id: `${file}:${line}`, prog, ignoreMsg, msg: msg.join('\n') });
      continue;
    }
    const line = i + 1;
    const prog = l;
    const input = lines[i + 1] ?? '';
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i].trim() !== '') {
      if (!lines[i].startsWith('#')) out.push(lines[i]);
      i++;
    }
    cases.push({ kind: 'ok', file, line, id: `${file}:${line}`, prog, input, out });
  }
  return cases;
}

export function loadSuites(): SuiteCase[] {
  const all: SuiteCase[] = [];
  for (const f of readdirSync(suiteDir).filter((f) => f.endsWith('.test')).sort()) {
    all.push(...parseSuite(f, readFileSync(path.join(suiteDir, f), 'utf8')));
  }
  return all;
}
