/**
 * `datakit validate FILE|-`: every error of a declarative file or a plugin
 * config, with the file's line and column where the YAML has them.
 *
 * A declarative file goes through the very loader `datakit serve` uses
 * (GatewayCore.applyDocument), so the two can never disagree; a bare datakit
 * plugin config goes through the engine's validation.
 */
import pino from 'pino';
import YAML, { LineCounter, isNode, type Document } from 'yaml';
import { Datakit } from '../flow.js';
import { parseCommand, readInput } from './args.js';
import { findDatakitConfigs } from '../config.js';
import { GatewayCore } from '../gateway/core.js';
import { DeclarativeError } from '../gateway/declarative.js';
import { GatewayError } from '../gateway/state.js';

export const VALIDATE_USAGE = `usage: datakit validate FILE

FILE "-" reads standard input.

Checks a declarative gateway file (_format_version, services, routes,
plugins, ...) with the same loader as \`datakit serve\`, or a datakit plugin
config (\`nodes: [...]\`, or a plugin entry \`name: datakit, config: ...\`).
Prints "FILE: ok" and exits 0, or prints every error (line:column where the
file has them) and exits 1. Exit 2 on a usage error.
`;

interface Located {
  /** the error as printed, with the path of the bad field when there is one */
  message: string;
  line?: number;
  col?: number;
}

export async function validateCli(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const parsed = parseCommand({ help: VALIDATE_USAGE, operands: { min: 1, max: 1 }, options: {} }, args, out, err);
  if (typeof parsed === 'number') return parsed;
  const file = parsed.operands[0];
  const name = file === '-' ? '(stdin)' : file;
  let text: string;
  try {
    text = await readInput(file, stdin);
  } catch (e) {
    err.write(`${name}: cannot read: ${(e as Error).message}\n`);
    return 1;
  }
  const errors = (await validateText(text, file === '-' ? undefined : GatewayCore.baseDirOf(file))).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (errors.length === 0) {
    out.write(`${name}: ok\n`);
    return 0;
  }
  err.write(`${name}: ${errors.length} error${errors.length > 1 ? 's' : ''}\n`);
  for (const e of errors) err.write(`  ${e.line ? `${e.line}:${e.col}: ` : ''}${e.message}\n`);
  return 1;
}

/** Every error in a file's text; [] when it is valid. */
export async function validateText(text: string, baseDir?: string): Promise<Located[]> {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: true });
  if (doc.errors.length) {
    // pretty errors carry linePos; their message repeats it with a snippet: keep the first clause
    return doc.errors.map((e) => ({ message: `invalid YAML: ${e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '')}`, line: e.linePos?.[0].line, col: e.linePos?.[0].col }));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return [{ message: `invalid YAML: ${(e as Error).message}` }];
  }
  const locate = (path: string | undefined, message: string): Located => ({ message, ...(path ? position(doc, lines, path) : undefined) });
  if (!isRecord(data)) return [locate(undefined, 'expected a declarative file or a datakit plugin config (a YAML/JSON object)')];
  if (isDeclarative(data)) return validateDeclarative(data, baseDir, locate);
  const found = findDatakitConfigs(data);
  if (found.length === 0) {
    return [locate(undefined, 'no datakit plugin configuration found (expected "nodes", a datakit plugin entry, or a declarative file)')];
  }
  const dk = await Datakit.create({ logger: { log() {} } });
  try {
    return found.flatMap((f) =>
      dk.validate(f.config as object).map((e) => {
        const nodePath = e.node ? `${f.path ? `${f.path}.` : ''}nodes[${e.node.index - 1}]` : f.path;
        const fieldPath = e.node && e.field ? `${nodePath}.${e.field}` : nodePath;
        return locate(fieldPath || undefined, f.path ? `${f.path}: ${e.message}` : e.message);
      }),
    );
  } finally {
    await dk.close();
  }
}

async function validateDeclarative(data: Record<string, unknown>, baseDir: string | undefined, locate: (path: string | undefined, message: string) => Located): Promise<Located[]> {
  const core = await GatewayCore.create({ logger: pino({ level: 'silent' }), accessLog: false });
  try {
    await core.applyDocument(data, { baseDir });
    return [];
  } catch (e) {
    if (e instanceof DeclarativeError) return e.issues.map((i) => locate(pathForIssue(i.path, i.message), `${i.path}: ${i.message}`));
    if (e instanceof GatewayError) return [locate(undefined, String((e.body as { message?: string }).message ?? e.message))];
    return [locate(undefined, (e as Error).message)];
  } finally {
    await core.close();
  }
}

/** A datakit plugin's error names its node (`node #2 (NAME): field: ...`): point at that node's field. */
function pathForIssue(path: string, message: string): string {
  const m = /^node #(\d+) \([^)]*\): ([A-Za-z_][\w.]*)?/.exec(message);
  if (!m || !path.endsWith('config')) return path;
  return `${path}.nodes[${Number(m[1]) - 1}]${m[2] ? `.${m[2]}` : ''}`;
}

const DECLARATIVE_KEYS = ['_format_version', 'services', 'routes', 'consumers', 'consumer_groups', 'upstreams', 'vaults', 'filter_chains', 'certificates', 'settings'];

function isDeclarative(data: Record<string, unknown>): boolean {
  if ('nodes' in data || data.name === 'datakit') return false;
  return DECLARATIVE_KEYS.some((k) => k in data) || Array.isArray(data.plugins);
}

/** Line and column of the deepest YAML node on a dotted path (`a[0].b.c`). */
function position(doc: Document, lines: LineCounter, path: string): { line: number; col: number } | undefined {
  const keys: Array<string | number> = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  // walk down as far as the document goes: a missing field points at its parent
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) {
      const p = lines.linePos(node.range[0]);
      return { line: p.line, col: p.col };
    }
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
