// `datakit jq [OPTIONS] FILTER [FILE]`: a jq-compatible command line.
import { readFile } from 'node:fs/promises';
import { compile, JqCompileError, JqRuntimeError } from '../jq/index.js';
import { setInputSource } from '../jq/builtins.js';
import { parseJsonSequence, parseJsonText } from '../jq/json.js';
import { decodeKey, dump, dumpPretty, setKey, type Obj } from '../jq/values.js';

export interface JqCliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const JQ_HELP = `usage: datakit jq [OPTIONS] FILTER [FILE]

Runs a jq 1.7.1 filter with the built-in engine on the JSON values of FILE
(or standard input; "-" is standard input), like jq. The real process
environment is visible as $ENV, and no time or memory budget applies.

options:
  -c, --compact-output     one line per value
  -r, --raw-output         strings without quotes
  -n, --null-input         run the filter once with null as input
  -s, --slurp              read every input value into one array
  -e, --exit-status        exit 1 if the last output was false or null, 4 if there was none
  --arg NAME VALUE         $NAME is the string VALUE
  --argjson NAME JSON      $NAME is the JSON value
  --slurpfile NAME FILE    $NAME is an array of the JSON values in FILE
  --rawfile NAME FILE      $NAME is the text of FILE
  --args                   the remaining arguments are strings, in $ARGS.positional
  --jsonargs               the remaining arguments are JSON texts, in $ARGS.positional
  --                       no options after this
  -h, --help               this help

A name given twice keeps its first value. $ARGS is {"positional": [...],
"named": {...}} (the named arguments). Short options combine (-cr). Exit: 0,
2 usage or input error, 3 compile error, 5 runtime error (as jq).
`;

/** jq's own command-line conventions: combined short flags and two-value options, which node:util parseArgs cannot express. */
interface JqArgs {
  compact: boolean;
  raw: boolean;
  nullInput: boolean;
  slurp: boolean;
  exitStatus: boolean;
  /** named arguments (--arg, --argjson, --slurpfile, --rawfile), first definition of a name wins */
  vars: Obj;
  /** --args / --jsonargs values */
  positional: unknown[];
  filter: string;
  file?: string;
}

const FLAGS: Record<string, keyof Pick<JqArgs, 'compact' | 'raw' | 'nullInput' | 'slurp' | 'exitStatus'>> = {
  c: 'compact', r: 'raw', n: 'nullInput', s: 'slurp', e: 'exitStatus',
  '--compact-output': 'compact', '--raw-output': 'raw', '--null-input': 'nullInput', '--slurp': 'slurp', '--exit-status': 'exitStatus',
};

class JqUsage extends Error {}

async function parseJqArgs(argv: string[]): Promise<JqArgs | 'help'> {
  const a: JqArgs = { compact: false, raw: false, nullInput: false, slurp: false, exitStatus: false, vars: {}, positional: [], filter: '' };
  const positional: string[] = [];
  // as jq 1.7.1's main: after --args / --jsonargs, arguments after the filter are values, not files
  let further: 'files' | 'strings' | 'json' = 'files';
  let optionsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (optionsDone || arg === '-' || !arg.startsWith('-') || /^-\d/.test(arg)) {
      if (positional.length === 0 || further === 'files') positional.push(arg);
      else if (further === 'strings') a.positional.push(arg);
      else {
        try {
          a.positional.push(parseJsonText(arg, undefined, 'all'));
        } catch {
          throw new JqUsage('invalid JSON text passed to --jsonargs');
        }
      }
      continue;
    }
    if (arg === '--') {
      optionsDone = true;
      continue;
    }
    if (arg === '--args' || arg === '--jsonargs') {
      further = arg === '--args' ? 'strings' : 'json';
      continue;
    }
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--arg' || arg === '--argjson' || arg === '--slurpfile' || arg === '--rawfile') {
      if (i + 2 >= argv.length) throw new JqUsage(`${arg} takes two parameters (e.g. ${arg} varname ${arg === '--arg' ? 'value' : arg === '--argjson' ? 'text' : 'filename'})`);
      const name = argv[++i];
      const value = argv[++i];
      if (Object.prototype.hasOwnProperty.call(a.vars, name)) continue; // jq keeps the first definition
      if (arg === '--arg') defineVar(a.vars, name, value);
      else if (arg === '--argjson') {
        try {
          defineVar(a.vars, name, parseJsonText(value, undefined, 'all'));
        } catch {
          throw new JqUsage(`invalid JSON text passed to --argjson`);
        }
      } else {
        let text: string;
        try {
          text = await readFile(value, 'utf8');
        } catch (e) {
          throw new JqUsage(`error: Could not open ${value}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
        }
        if (arg === '--rawfile') defineVar(a.vars, name, text);
        else {
          const { values, error } = parseJsonSequence(text, 'all');
          if (error) throw new JqUsage(`Bad JSON in --slurpfile ${name} ${value}: ${error}`);
          defineVar(a.vars, name, values.map((v) => v.value));
        }
      }
    } else if (FLAGS[arg]) a[FLAGS[arg]] = true;
    else if (/^-[a-zA-Z]+$/.test(arg)) {
      for (const f of arg.slice(1)) {
        if (!FLAGS[f]) throw new JqUsage(`Unknown option: ${arg}`);
        a[FLAGS[f]] = true;
      }
    } else throw new JqUsage(`Unknown option: ${arg}`);
  }
  if (positional.length === 0) throw new JqUsage('no filter given');
  if (positional.length > 2) throw new JqUsage('only one input file is supported');
  [a.filter, a.file] = positional;
  return a;
}

/** A variable by its name (the variables record is keyed by plain names, `__proto__` included). */
function defineVar(vars: Obj, name: string, value: unknown): void {
  Object.defineProperty(vars, name, { value, writable: true, enumerable: true, configurable: true });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function jqCli(argv: string[], io: JqCliIo): Promise<number> {
  let args: JqArgs | 'help';
  try {
    args = await parseJqArgs(argv);
  } catch (e) {
    if (!(e instanceof JqUsage)) throw e;
    io.stderr.write(`jq: ${e.message}\n${JQ_HELP.split('\n')[0]}\n(see --help)\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(JQ_HELP);
    return 0;
  }
  const { compact, raw, nullInput, slurp, exitStatus, filter, file } = args;
  // $ARGS: the positional values and the named ones (a name ARGS given as --arg is replaced, as in jq)
  const vars: Obj = { ...args.vars };
  // $ARGS.named is a jq value: its keys go through setKey
  const named: Obj = {};
  for (const name of Object.keys(args.vars)) setKey(named, decodeKey(name), args.vars[name]);
  defineVar(vars, 'ARGS', { positional: args.positional, named });
  // jq 1.7.1 describes its build here (unless a named argument took the name)
  if (!Object.prototype.hasOwnProperty.call(vars, 'JQ_BUILD_CONFIGURATION')) defineVar(vars, 'JQ_BUILD_CONFIGURATION', 'datakit-wasm jq engine (TypeScript)');
  let prog;
  try {
    // like jq: the real environment, and no time, memory or step budget (Ctrl-C ends a runaway filter)
    prog = compile(filter, {
      variables: vars,
      env: process.env,
      limits: { jq_time_ms: Infinity, jq_memory_bytes: Infinity, jq_steps: Infinity },
      exactNumbers: true,
    });
  } catch (e) {
    if (e instanceof JqCompileError) {
      io.stderr.write(`jq: error: ${e.message}\n${filter}\njq: 1 compile error\n`);
      return 3;
    }
    throw e;
  }
  const where = file === undefined || file === '-' ? '<stdin>' : file;
  let text = '';
  // with -n the input is read only for a filter that asks for it (input, inputs), as jq reads lazily
  if (!nullInput || /\binputs?\b/.test(filter)) {
    try {
      text = file !== undefined && file !== '-' ? await readFile(file, 'utf8') : await readAll(io.stdin);
    } catch (e) {
      io.stderr.write(`jq: error: Could not open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      return 2;
    }
  }
  let last: { value: unknown } | undefined;
  const write = (v: unknown) => {
    last = { value: v };
    if (raw && typeof v === 'string') io.stdout.write(v + '\n');
    else io.stdout.write((compact ? dump(v) : dumpPretty(v)) + '\n');
  };
  let exit = 0;
  const runOne = (input: unknown, line: number): boolean => {
    try {
      for (const v of prog.runValues(input)) write(v);
    } catch (e) {
      if (!(e instanceof JqRuntimeError)) throw e;
      for (const v of e.outputs) write(v);
      if (e.exitCode !== undefined) {
        // halt / halt_error
        if (e.message) io.stderr.write(e.message);
        exit = e.exitCode;
        return false;
      }
      const msg =
        typeof e.value === 'string' || e.value === e.message
          ? `jq: error (at ${where}:${line}): ${e.message}`
          : `jq: error (at ${where}:${line}) (not a string): ${dump(e.value)}`;
      io.stderr.write(msg + '\n');
      exit = 5;
    }
    return true;
  };
  // -e: the last output decides, unless an error did
  const finish = (): number => (exit !== 0 || !exitStatus ? exit : last === undefined ? 4 : last.value === null || last.value === false ? 1 : 0);
  const { values, error } = parseJsonSequence(text, 'all');
  // the values not processed yet: the main loop and the filter's input/inputs take from the front
  let next = 0;
  const filename = file === undefined || file === '-' ? null : file;
  setInputSource(
    slurp
      ? null
      : () => {
          if (next >= values.length) return null;
          return { value: values[next++].value };
        },
    filename,
  );
  try {
    if (nullInput) {
      runOne(null, 0);
      return finish();
    }
    const inputs: unknown[] = [];
    while (next < values.length) {
      const { value: input, line } = values[next++];
      if (slurp) inputs.push(input);
      else if (!runOne(input, line)) return exit;
    }
    if (error) {
      io.stderr.write(`jq: parse error: ${error}\n`);
      return 2;
    }
    if (slurp) runOne(inputs, values.at(-1)?.line ?? 0);
    return finish();
  } catch (e) {
    if (!(e instanceof JqUsage)) throw e;
    io.stderr.write(e.message + '\n');
    return 2;
  } finally {
    setInputSource(null);
  }
}
