// `datakit jq [-c] [-r] [-n] [--arg name value] FILTER [FILE]` -- a jq-compatible command line.
import { readFile } from 'node:fs/promises';
import { compile, JqCompileError, JqRuntimeError } from '../jq/index.js';
import { parseJsonText, splitJson } from '../jq/json.js';
import { dump, dumpPretty } from '../jq/values.js';

export interface JqCliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = 'Usage: datakit jq [-c] [-r] [-n] [--arg name value] FILTER [FILE]\n';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function jqCli(argv: string[], io: JqCliIo): Promise<number> {
  let compact = false;
  let raw = false;
  let nullInput = false;
  const vars: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--arg' || a === '--argjson') {
      if (i + 2 >= argv.length) {
        io.stderr.write(`jq: ${a} takes two parameters (e.g. ${a} varname value)\n` + USAGE);
        return 2;
      }
      const name = argv[i + 1];
      const value = argv[i + 2];
      if (a === '--arg') vars[name] = value;
      else {
        try {
          vars[name] = parseJsonText(value);
        } catch {
          io.stderr.write(`jq: invalid JSON text passed to --argjson\n` + USAGE);
          return 2;
        }
      }
      i += 2;
    } else if (a === '--compact-output') compact = true;
    else if (a === '--raw-output') raw = true;
    else if (a === '--null-input') nullInput = true;
    else if (a === '-h' || a === '--help') {
      io.stdout.write(USAGE);
      return 0;
    } else if (/^-[crn]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'c') compact = true;
        else if (f === 'r') raw = true;
        else if (f === 'n') nullInput = true;
      }
    } else if (a.startsWith('-') && a !== '-' && positional.length === 0 && a.length > 1 && !/^-\d/.test(a)) {
      io.stderr.write(`jq: Unknown option: ${a}\n` + USAGE);
      return 2;
    } else positional.push(a);
  }
  if (positional.length === 0) {
    io.stderr.write(USAGE);
    return 2;
  }
  const [filter, file] = positional;
  if (positional.length > 2) {
    io.stderr.write('jq: only one input file is supported\n' + USAGE);
    return 2;
  }
  let prog;
  try {
    // like jq: the real environment, and no time, memory or step budget (Ctrl-C ends a runaway filter)
    prog = compile(filter, {
      variables: vars,
      env: process.env,
      limits: { jq_time_ms: Infinity, jq_memory_bytes: Infinity, jq_steps: Infinity },
    });
  } catch (e) {
    if (e instanceof JqCompileError) {
      io.stderr.write(`jq: error: ${e.message}\n${filter}\njq: 1 compile error\n`);
      return 3;
    }
    throw e;
  }
  const where = file ?? '<stdin>';
  let text = '';
  if (!nullInput) {
    try {
      text = file !== undefined && file !== '-' ? await readFile(file, 'utf8') : await readAll(io.stdin);
    } catch (e) {
      io.stderr.write(`jq: error: Could not open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      return 2;
    }
  }
  const write = (v: unknown) => {
    if (raw && typeof v === 'string') io.stdout.write(v + '\n');
    else io.stdout.write((compact ? dump(v) : dumpPretty(v)) + '\n');
  };
  let exit = 0;
  const runOne = (input: unknown, line: number): boolean => {
    try {
      for (const v of prog.run(input)) write(v);
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
  if (nullInput) {
    runOne(null, 0);
    return exit;
  }
  const { values, error } = splitJson(text);
  for (const { text: t, line } of values) {
    let input: unknown;
    try {
      input = parseJsonText(t);
    } catch (e) {
      io.stderr.write(`jq: error (at ${where}:${line}): Cannot parse input: ${(e as Error).message}\n`);
      return 2;
    }
    if (!runOne(input, line)) return exit;
  }
  if (error) {
    io.stderr.write(`jq: error (at ${where}:${error.line}): ${error.msg}\n`);
    return 2;
  }
  return exit;
}
