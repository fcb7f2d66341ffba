/**
 * One argument parser for every `datakit` command (node:util parseArgs):
 * `-h/--help` prints the command's help and exits 0; an unknown option, a
 * missing value or the wrong number of operands prints the error and the
 * usage line and exits 2. `-` as a file operand means standard input.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  /** the full help text; its first line is the usage line */
  help: string;
  options: O;
  /** how many operands the command takes */
  operands: { min: number; max: number };
}

/** What a command's options parse into. */
export type Parsed<O extends NonNullable<ParseArgsConfig['options']>> = {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };
  operands: string[];
};

export class UsageError extends Error {}

/**
 * Parses a command's arguments; returns the exit code instead when the
 * command should stop (help asked for: 0, usage error: 2).
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  spec: CommandSpec<O>,
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Parsed<O> | number {
  if (args.includes('-h') || args.includes('--help')) {
    out.write(spec.help.endsWith('\n') ? spec.help : spec.help + '\n');
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
    const { min, max } = spec.operands;
    if (positionals.length < min) throw new UsageError(min === 1 ? 'missing operand' : `expected at least ${min} operands`);
    if (positionals.length > max) throw new UsageError(`unexpected operand ${JSON.stringify(positionals[max])}`);
    return { values: values as Parsed<O>['values'], operands: positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    err.write(`datakit: ${message}\n${spec.help.split('\n')[0]}\n(see --help)\n`);
    return 2;
  }
}

/** A whole positive integer option, or a UsageError naming it. */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A file's text; `-` reads standard input. */
export async function readInput(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}
