// `datakit jq` command line.
import { describe, it, expect } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jqCli } from '../../host/cli/jq.js';

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  const code = await jqCli(argv, {
    stdin: Readable.from([stdin]),
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
  });
  return { code, out, err };
}

describe('datakit jq', () => {
  it('pretty prints by default with 2-space indent', async () => {
    const r = await run(['.'], '{"a":[1,{"b":null}],"c":{}}');
    expect(r.out).toBe('{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": {}\n}\n');
    expect(r.code).toBe(0);
  });
  it('-c, -r, -n and --arg', async () => {
    expect((await run(['-c', '.a'], '{"a":[1,2]}')).out).toBe('[1,2]\n');
    expect((await run(['-r', '.a'], '{"a":"x\\ny"}')).out).toBe('x\ny\n');
    expect((await run(['-rc', '.[]'], '["s",{"k":1}]')).out).toBe('s\n{"k":1}\n');
    expect((await run(['-n', '--arg', 'who', 'me', '"hi \\($who)"'])).out).toBe('"hi me"\n');
  });
  // expected outputs from jq 1.7.1 (jq-wasm)
  it('a name given twice keeps its first value, for --arg and --argjson alike', async () => {
    const r = await run(['-c', '-n', '--arg', 'x', '1', '--arg', 'x', '2', '--argjson', 'y', '{"a":1}', '--argjson', 'y', '2', '[$x, $y, $ARGS]']);
    expect(r.out).toBe('["1",{"a":1},{"positional":[],"named":{"x":"1","y":{"a":1}}}]\n');
  });
  it('$ARGS: positional values after --args (strings) and --jsonargs (JSON)', async () => {
    expect((await run(['-c', '-n', '$ARGS'])).out).toBe('{"positional":[],"named":{}}\n');
    expect((await run(['-c', '-n', '--args', '$ARGS', 'a', 'b'])).out).toBe('{"positional":["a","b"],"named":{}}\n');
    expect((await run(['-c', '-n', '--jsonargs', '$ARGS.positional', '1', '{"a":[2]}'])).out).toBe('[1,{"a":[2]}]\n');
    // a named argument called ARGS is listed, but $ARGS stays the arguments object
    expect((await run(['-c', '-n', '--args', '--arg', 'ARGS', 'v', '$ARGS', 'a'])).out).toBe('{"positional":["a"],"named":{"ARGS":"v"}}\n');
    expect((await run(['-n', '$JQ_BUILD_CONFIGURATION | type'])).out).toBe('"string"\n');
    expect((await run(['-n', '--arg', 'JQ_BUILD_CONFIGURATION', 'x', '$JQ_BUILD_CONFIGURATION'])).out).toBe('"x"\n');
    // switching mode midway: later values are read the new way
    expect((await run(['-c', '-n', '--args', '$ARGS.positional', 'a', '--jsonargs', '1'])).out).toBe('["a",1]\n');
    const bad = await run(['-n', '--jsonargs', '.', '{']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid JSON text passed to --jsonargs');
  });
  // jq 1.7.1 (jq-wasm): input past the last value fails with "break"
  it('input and inputs read the values not processed yet, as in jq', async () => {
    expect((await run(['-c', '-n', '[inputs]'], '1 2 3')).out).toBe('[1,2,3]\n');
    expect((await run(['-c', '-n', 'reduce inputs as $x (0; . + $x)'], '1 2 3')).out).toBe('6\n');
    expect((await run(['-c', '[., input]'], '1 2 3 4')).out).toBe('[1,2]\n[3,4]\n');
    const odd = await run(['-c', '[., input]'], '1 2 3');
    expect(odd.out).toBe('[1,2]\n');
    expect(odd.err).toBe('jq: error (at <stdin>:1): break\n');
    expect(odd.code).toBe(5);
    expect((await run(['-c', '-n', 'input, (try input catch .)'], '7')).out).toBe('7\n"break"\n');
    expect((await run(['-c', '-s', '., (try input catch .)'], '1 2')).out).toBe('[1,2]\n"break"\n');
    // a flow's jq (the library) never has further inputs
    const { compile } = await import('../../host/jq/index.js');
    expect(compile('[inputs], (try input catch .)').run(1)).toEqual([[], 'break']);
  });
  it('-- ends the options: a filter may start with a dash', async () => {
    expect((await run(['-n', '--', '-1'])).out).toBe('-1\n');
    expect((await run(['-c', '--', '.', '-'], '[1]')).out).toBe('[1]\n');
  });
  it('named arguments are plain keys (no prototype names)', async () => {
    expect((await run(['-c', '-n', '--arg', 'constructor', 'c', '--arg', '__proto__', 'p', '[$constructor, $__proto__]'])).out).toBe('["c","p"]\n');
  });
  it('processes every JSON value of the input in turn', async () => {
    const r = await run(['-c', '.+1'], '1 2\n3');
    expect(r.out).toBe('2\n3\n4\n');
  });
  it('reads a file argument', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jqcli-'));
    const f = path.join(dir, 'in.json');
    writeFileSync(f, '{"x": 42}');
    expect((await run(['.x', f])).out).toBe('42\n');
    expect((await run(['input_filename', f])).out).toBe(JSON.stringify(f) + '\n');
    expect((await run(['input_filename'], '1')).out).toBe('null\n');
    expect((await run(['.x', path.join(dir, 'missing.json')])).code).toBe(2);
  });
  it('runtime errors exit 5 with jq-style messages and keep going', async () => {
    const r = await run(['.a'], '{"a":1}\n[1]\n{"a":2}');
    expect(r.out).toBe('1\n2\n');
    expect(r.err).toBe('jq: error (at <stdin>:2): Cannot index array with string "a"\n');
    expect(r.code).toBe(5);
    const r2 = await run(['-n', 'error({a:1})']);
    expect(r2.err).toBe('jq: error (at <stdin>:0) (not a string): {"a":1}\n');
  });
  it('compile errors exit 3', async () => {
    const r = await run(['.a |'], '{}');
    expect(r.code).toBe(3);
    expect(r.err).toBe(
      'jq: error: syntax error, unexpected end of file (Unix shell quoting issues?) at <top-level>, line 1:\n.a |\njq: 1 compile error\n',
    );
  });
  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--bogus', '.'])).code).toBe(2);
  });
});

describe('datakit jq options', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dk-jq-opts-'));

  it('-s reads every input into one array; - is standard input', async () => {
    expect((await run(['-s', '-c', '.'], '1 2 3')).out).toBe('[1,2,3]\n');
    expect((await run(['-c', 'map(.*2)', '-'], '[1,2]')).out).toBe('[2,4]\n');
  });

  it('-e sets the exit status from the last output', async () => {
    expect((await run(['-e', '.'], 'true')).code).toBe(0);
    expect((await run(['-e', '.'], 'null')).code).toBe(1);
    expect((await run(['-e', '.'], 'false')).code).toBe(1);
    expect((await run(['-e', 'empty'], '1')).code).toBe(4);
    expect((await run(['-e', 'error("x")'], '1')).code).toBe(5);
  });

  it('--argjson, --slurpfile and --rawfile bind variables; the first definition wins', async () => {
    const json = path.join(dir, 'v.json');
    const raw = path.join(dir, 'r.txt');
    writeFileSync(json, '1 [2]');
    writeFileSync(raw, 'line\n');
    const r = await run(['-n', '-c', '--argjson', 'a', '{"x":1}', '--slurpfile', 'b', json, '--rawfile', 'c', raw, '--arg', 'd', 'first', '--arg', 'd', 'second', '[$a, $b, $c, $d]']);
    expect(r.out).toBe('[{"x":1},[1,[2]],"line\\n","first"]\n');
  });

  it('usage errors exit 2 with the usage line; --help exits 0', async () => {
    const bad = await run(['--slurpfile', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--slurpfile takes two parameters');
    expect(bad.err).toContain('usage: datakit jq');
    expect((await run(['-q', '.'])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--slurpfile NAME FILE');
  });
});
