// jq 1.7.1 keeps an object's keys in insertion order, including keys that
// look like array indices ("0", "1"), which plain JS objects list first
// (host/jq/values.ts stores those encoded). The expected outputs are
// jq-wasm's (jq 1.7.1), as `jq -c` prints them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { compile, JqRuntimeError } from '../../host/jq/index.js';
import { parseJsonText } from '../../host/jq/json.js';
import { dump, dumpPretty } from '../../host/jq/values.js';
import { jqCli } from '../../host/cli/jq.js';
import { engine, text } from '../helpers/engine.js';

/** [filter, input text, outputs as jq -c prints them, error message after them] */
const cases: Array<[string, string, string[], string?]> = [
  [".", "{\"a\":1,\"0\":2}", ["{\"a\":1,\"0\":2}"]],
  ["keys_unsorted, keys", "{\"b\":1,\"10\":2,\"9\":3,\"a\":4}", ["[\"b\",\"10\",\"9\",\"a\"]", "[\"10\",\"9\",\"a\",\"b\"]"]],
  ["to_entries", "{\"b\":1,\"1\":2}", ["[{\"key\":\"b\",\"value\":1},{\"key\":\"1\",\"value\":2}]"]],
  ["with_entries(.value += 1)", "{\"b\":1,\"1\":2}", ["{\"b\":2,\"1\":3}"]],
  ["[.[]]", "{\"b\":1,\"1\":2,\"0\":3}", ["[1,2,3]"]],
  ["[tostream]", "{\"b\":1,\"1\":{\"3\":1,\"c\":2}}", ["[[[\"b\"],1],[[\"1\",\"3\"],1],[[\"1\",\"c\"],2],[[\"1\",\"c\"]],[[\"1\"]]]"]],
  ["[paths]", "{\"b\":1,\"1\":{\"3\":1,\"c\":2}}", ["[[\"b\"],[\"1\"],[\"1\",\"3\"],[\"1\",\"c\"]]"]],
  ["[..]", "{\"b\":1,\"1\":{\"3\":1,\"c\":2}}", ["[{\"b\":1,\"1\":{\"3\":1,\"c\":2}},1,{\"3\":1,\"c\":2},1,2]"]],
  [". + {\"0\":5,\"z\":1,\"b\":9}", "{\"b\":1,\"1\":2,\"0\":0}", ["{\"b\":9,\"1\":2,\"0\":5,\"z\":1}"]],
  [". * {\"1\":{\"x\":1,\"2\":2},\"y\":3}", "{\"b\":1,\"1\":{\"9\":0}}", ["{\"b\":1,\"1\":{\"9\":0,\"x\":1,\"2\":2},\"y\":3}"]],
  ["del(.b), del(.[\"1\"])", "{\"b\":1,\"1\":2,\"c\":3}", ["{\"1\":2,\"c\":3}", "{\"b\":1,\"c\":3}"]],
  ["del(.b) | .b = 4", "{\"b\":1,\"1\":2,\"c\":3}", ["{\"1\":2,\"c\":3,\"b\":4}"]],
  ["setpath([\"5\"]; 1), setpath([\"b\"]; 2)", "{\"b\":1,\"7\":0}", ["{\"b\":1,\"7\":0,\"5\":1}", "{\"b\":2,\"7\":0}"]],
  ["{a: 1, \"1\": 2, b: 3, (\"0\"): 4}", "null", ["{\"a\":1,\"1\":2,\"b\":3,\"0\":4}"]],
  ["from_entries", "[{\"key\":\"x\",\"value\":1},{\"key\":\"2\",\"value\":2},{\"name\":\"1\",\"value\":3}]", ["{\"x\":1,\"2\":2,\"1\":3}"]],
  ["group_by(.a)", "[{\"a\":1,\"3\":1},{\"a\":1,\"2\":0}]", ["[[{\"a\":1,\"3\":1},{\"a\":1,\"2\":0}]]"]],
  ["tojson, tostring, @json, @text", "{\"x\":1,\"1\":2}", ["\"{\\\"x\\\":1,\\\"1\\\":2}\"", "\"{\\\"x\\\":1,\\\"1\\\":2}\"", "\"{\\\"x\\\":1,\\\"1\\\":2}\"", "\"{\\\"x\\\":1,\\\"1\\\":2}\""]],
  [".[] + 1", "{\"x\":{\"y\":1,\"0\":2}}", [], "object ({\"y\":1,\"0\":2}) and number (1) cannot be added"],
  ["error", "{\"y\":1,\"0\":2}", [], "{\"y\":1,\"0\":2} (not a string)"],
  [". == {\"1\":2,\"x\":1}, (. | contains({\"1\":2})), has(\"1\"), .\"1\"", "{\"x\":1,\"1\":2}", ["true", "true", "true", "2"]],
  ["to_entries | from_entries", "{\"__proto__\":1,\"\\u0000x\":2,\"3\":3,\"a\":4}", ["{\"__proto__\":1,\"\\u0000x\":2,\"3\":3,\"a\":4}"]],
  ["keys_unsorted, .__proto__, .[\"\\u0000x\"], has(\"__proto__\")", "{\"__proto__\":1,\"\\u0000x\":2,\"3\":3,\"a\":4}", ["[\"__proto__\",\"\\u0000x\",\"3\",\"a\"]", "1", "2", "true"]],
  ["add", "[{\"b\":1},{\"2\":2},{\"b\":3,\"1\":4}]", ["{\"b\":3,\"2\":2,\"1\":4}"]],
  ["map_values(. + 1), map(. * 2)", "{\"b\":1,\"2\":2}", ["{\"b\":2,\"2\":3}", "[2,4]"]],
  ["reduce .[] as $x ({}; .[$x] = 1)", "[\"z\",\"1\",\"0\",\"a\"]", ["{\"z\":1,\"1\":1,\"0\":1,\"a\":1}"]],
  ["sort_by(.) , unique, min, max", "[{\"b\":1,\"0\":2},{\"a\":1,\"1\":0}]", ["[{\"b\":1,\"0\":2},{\"a\":1,\"1\":0}]", "[{\"b\":1,\"0\":2},{\"a\":1,\"1\":0}]", "{\"b\":1,\"0\":2}", "{\"a\":1,\"1\":0}"]],
  ["INDEX(.id)", "[{\"id\":\"b\"},{\"id\":\"3\"},{\"id\":\"a\"}]", ["{\"b\":{\"id\":\"b\"},\"3\":{\"id\":\"3\"},\"a\":{\"id\":\"a\"}}"]],
  ["walk(if type == \"object\" then del(.a) else . end)", "{\"z\":{\"a\":1,\"1\":2},\"0\":3}", ["{\"z\":{\"1\":2},\"0\":3}"]],
  ["pick(.[\"1\"], .b)", "{\"b\":1,\"1\":2,\"c\":3}", ["{\"1\":2,\"b\":1}"]],
  ["to_entries | map(.key)", "{\"a\":{},\"0\":[]}", ["[\"a\",\"0\"]"]],
  ["fromjson", "\"{\\\"a\\\":1,\\\"0\\\":2}\"", ["{\"a\":1,\"0\":2}"]],
  ["[splits(\"a\")], (. as $s | {($s): 1, \"0\": 2})", "\"5\"", ["[\"5\"]", "{\"5\":1,\"0\":2}"]],
  ["getpath([\"1\",\"0\"]), [paths(scalars)]", "{\"x\":1,\"1\":{\"z\":3,\"0\":2}}", ["2", "[[\"x\"],[\"1\",\"z\"],[\"1\",\"0\"]]"]],
  // destructuring, streams, paths, updates, formats, keys near the index boundary
  [". as {\"0\": $a, b: $b} | [$a, $b]", "{\"b\":1,\"0\":2}", ["[2,1]"]],
  [". as {$__proto__} | $__proto__", "{\"__proto__\":5}", ["5"]],
  ["[.[] as [$a] | $a]", "{\"b\":[1],\"0\":[2]}", ["[1,2]"]],
  ["delpaths([[\"0\"]]), with_entries(select(.key != \"b\"))", "{\"b\":1,\"0\":2,\"c\":3}", ["{\"b\":1,\"c\":3}", "{\"0\":2,\"c\":3}"]],
  ["fromstream(tostream)", "{\"b\":1,\"0\":{\"2\":[1],\"a\":2},\"c\":3}", ["{\"b\":1,\"0\":{\"2\":[1],\"a\":2},\"c\":3}"]],
  ["getpath([\"0\",\"2\"]), [paths(type == \"number\")]", "{\"b\":1,\"0\":{\"2\":[1],\"a\":2}}", ["[1]", "[[\"b\"],[\"0\",\"2\",0],[\"0\",\"a\"]]"]],
  ["{(.[] | tostring): 1}", "[\"b\",1,\"a\",0]", ["{\"b\":1}", "{\"1\":1}", "{\"a\":1}", "{\"0\":1}"]],
  ["\"0\" | in({\"0\":1}), inside({\"0\":\"x\"})", "null", ["true"], "object ({\"0\":\"x\"}) and string (\"0\") cannot have their containment checked"],
  ["map_values(empty), (.. |= .), (.[\"b\"] = 9), (.[\"0\"] |= . + 1)", "{\"b\":1,\"0\":2,\"c\":3}", ["{}", "{\"b\":1,\"0\":2,\"c\":3}", "{\"b\":9,\"0\":2,\"c\":3}", "{\"b\":1,\"0\":3,\"c\":3}"]],
  ["del(.[\"0\"]) | .[\"0\"] = 1", "{\"0\":0,\"b\":1}", ["{\"b\":1,\"0\":1}"]],
  ["to_entries[0], (keys_unsorted[0] as $k | .[$k])", "{\"__proto__\":1,\"0\":2}", ["{\"key\":\"__proto__\",\"value\":1}", "1"]],
  ["[.[] | objects | keys_unsorted]", "[{\"9\":1,\"a\":2},{\"x\":1,\"4294967295\":1,\"4294967294\":2,\"01\":3}]", ["[[\"9\",\"a\"],[\"x\",\"4294967295\",\"4294967294\",\"01\"]]"]],
  ["tojson | fromjson", "{\"z\":1,\"\\u0000\":2,\"\\u0000\\u0000a\":3,\"1\":4}", ["{\"z\":1,\"\\u0000\":2,\"\\u0000\\u0000a\":3,\"1\":4}"]],
  ["unique_by(keys_unsorted), (map(tojson) | sort)", "[{\"1\":1,\"a\":1},{\"a\":1,\"1\":1}]", ["[{\"1\":1,\"a\":1},{\"a\":1,\"1\":1}]", "[\"{\\\"1\\\":1,\\\"a\\\":1}\",\"{\\\"a\\\":1,\\\"1\\\":1}\"]"]],
  [". == {\"a\":1,\"1\":1}, (.[0] < .[1])", "[{\"1\":1,\"a\":1},{\"a\":1,\"2\":1}]", ["false", "true"]],
  ["[splits(\", \")] | INDEX(.)", "\"x, 1, y, 0\"", ["{\"x\":\"x\",\"1\":\"1\",\"y\":\"y\",\"0\":\"0\"}"]],
  ["reduce to_entries[] as $e ({}; . + {($e.key): $e.value})", "{\"c\":1,\"10\":2,\"2\":3}", ["{\"c\":1,\"10\":2,\"2\":3}"]],
  ["@text, @json, @html, (tostring | @sh)", "{\"c\":1,\"10\":2}", ["\"{\\\"c\\\":1,\\\"10\\\":2}\"", "\"{\\\"c\\\":1,\\\"10\\\":2}\"", "\"{&quot;c&quot;:1,&quot;10&quot;:2}\"", "\"'{\\\"c\\\":1,\\\"10\\\":2}'\""]],
  ["walk(.), [..|numbers]", "{\"c\":{\"3\":1},\"10\":[{\"1\":2,\"0\":3}]}", ["{\"c\":{\"3\":1},\"10\":[{\"1\":2,\"0\":3}]}", "[1,2,3]"]],
  ["getpath([\"a\",\"0\",\"x\"]), (setpath([\"a\",\"0\"]; 1) | tojson)", "{\"a\":{\"y\":1}}", ["null", "\"{\\\"a\\\":{\\\"y\\\":1,\\\"0\\\":1}}\""]],
  ["to_entries | map(.key) | join(\",\")", "{\"y\":1,\"\":2,\"0\":3,\"00\":4,\"-1\":5,\"1.5\":6}", ["\"y,,0,00,-1,1.5\""]],
  ["keys, length, add, any, all", "{\"y\":1,\"0\":2}", ["[\"0\",\"y\"]", "2", "3", "true", "true"]],
  ["[limit(2; .[])], first(.[]), (to_entries | last.key)", "{\"y\":1,\"0\":2,\"x\":3}", ["[1,2]", "1", "\"x\""]],
  ["splits(\"x\")?, ltrimstr(\"a\"), (tostream | select(length==2) | .[0][0])", "{\"y\":1,\"0\":2}", ["{\"y\":1,\"0\":2}", "\"y\"", "\"0\""]],
  ["$__loc__, {a:1} * {\"0\":{}} * {\"0\":{\"1\":1}}", "null", ["{\"file\":\"<top-level>\",\"line\":1}", "{\"a\":1,\"0\":{\"1\":1}}"]],
  ["with_entries(.key |= \"k\" + .), with_entries(.key |= ltrimstr(\"k\"))", "{\"1\":1,\"b\":2}", ["{\"k1\":1,\"kb\":2}", "{\"1\":1,\"b\":2}"]],
  ["input_line_number, (env | type), (. as $o | $o | .[\"3\"])", "{\"3\":1}", ["0", "\"object\"", "1"]],
];

function runJq(filter: string, input: string): { outputs: string[]; error?: string } {
  const program = compile(filter);
  try {
    return { outputs: program.runValues(parseJsonText(input)).map((v) => dump(v)) };
  } catch (e) {
    if (!(e instanceof JqRuntimeError)) throw e;
    return { outputs: e.outputs.map((v) => dump(v)), error: e.message };
  }
}

describe('insertion order of every key (jq 1.7.1)', () => {
  for (const [filter, input, outputs, error] of cases) {
    it(`${filter}  on ${input}`, () => expect(runJq(filter, input)).toEqual(error === undefined ? { outputs } : { outputs, error }));
  }

  it('runText keeps the order, as JSON.stringify would write the rest', () => {
    const p = compile('., keys_unsorted, {z: 1, "1": 2}');
    expect(p.runText('{"b":1e-7,"0":[2],"__proto__":{"1":1}}')).toEqual([
      '{"b":1e-7,"0":[2],"__proto__":{"1":1}}',
      '["b","0","__proto__"]',
      '{"z":1,"1":2}',
    ]);
    // no index-like key anywhere: JSON.parse and JSON.stringify
    expect(p.runText('{"b":1,"a":2}')).toEqual(['{"b":1,"a":2}', '["b","a"]', '{"z":1,"1":2}']);
    expect(compile('.').runText('[1,{"a":"x"}]')).toEqual(['[1,{"a":"x"}]']);
  });

  it('runText fails on a text that is not JSON with the parser\'s words', () => {
    expect(() => compile('.').runText('{"0":1')).toThrow("Cannot parse input: Unfinished JSON term at EOF at line 1, column 6 (while parsing '{\"0\":1')");
  });

  it('run() hands out plain JS values (keys decoded) and takes them', () => {
    const [out] = compile('. + {"1": 2, "__proto__": 3}').run(JSON.parse('{"a":0,"0":1}'));
    expect(out).toEqual({ a: 0, 0: 1, 1: 2, ['__proto__']: 3 });
    expect(Object.keys(out as object)).toEqual(['0', '1', 'a', '__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    // a plain object's index-like keys read, compare and copy like stored ones
    expect(compile('.["0"], has("0"), . == {"0": 1, "a": 0}, (.["0"] = 5 | keys_unsorted)').run({ a: 0, 0: 1 })).toEqual([1, true, true, ['0', 'a']]);
    expect(compile('.__proto__, keys').run(JSON.parse('{"__proto__":{"x":1}}'))).toEqual([{ x: 1 }, ['__proto__']]);
  });

  it('run() decodes error values and outputs before the error', () => {
    try {
      compile('{"0": 1, a: 2}, error({"1": 1})').run(null);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JqRuntimeError);
      expect((e as JqRuntimeError).outputs).toEqual([{ 0: 1, a: 2 }]);
      expect((e as JqRuntimeError).value).toEqual({ 1: 1 });
      expect((e as JqRuntimeError).message).toBe('{"1":1} (not a string)');
    }
  });

  it('runText errors carry plain values too', () => {
    try {
      compile('error({"1": 1, a: 2})').runText('{"0":1}');
      expect.unreachable();
    } catch (e) {
      expect((e as JqRuntimeError).value).toEqual({ 1: 1, a: 2 });
      expect((e as JqRuntimeError).message).toBe('{"1":1,"a":2} (not a string)');
    }
  });

  it('constants and $ENV built at compile time decode in every run', () => {
    const p = compile('$ENV, {"1": .}', { env: { '7': 'x', B: 'y' } });
    expect(p.run(0)).toEqual([{ 7: 'x', B: 'y' }, { 1: 0 }]);
    expect(p.run(1)).toEqual([{ 7: 'x', B: 'y' }, { 1: 1 }]);
    expect(p.runText('2')).toEqual(['{"7":"x","B":"y"}', '{"1":2}']);
  });

  it('pretty printing writes the keys in order', () => {
    expect(dumpPretty(parseJsonText('{"b":{"2":1,"a":[]},"1":null}'))).toBe('{\n  "b": {\n    "2": 1,\n    "a": []\n  },\n  "1": null\n}');
  });
});

describe('the CLI keeps the order', () => {
  async function cli(argv: string[], stdin: string): Promise<string> {
    let out = '';
    const io = {
      stdin: (async function* () {
        yield Buffer.from(stdin);
      })() as unknown as NodeJS.ReadableStream,
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((out += s), true) },
    };
    await jqCli(argv, io as never);
    return out;
  }

  it('input, --argjson, --jsonargs and $ARGS', async () => {
    expect(await cli(['-c', '., $x, $ARGS.positional', '--argjson', 'x', '{"z":1,"3":2}', '--jsonargs', '{"q":0,"0":1}'], '{"b":1,"0":2} {"5":1,"a":2}')).toBe(
      '{"b":1,"0":2}\n{"z":1,"3":2}\n[{"q":0,"0":1}]\n{"5":1,"a":2}\n{"z":1,"3":2}\n[{"q":0,"0":1}]\n',
    );
  });

  it('an input that is not JSON: the values before it, then the parser error', async () => {
    expect(await cli(['-c', '.'], '{"b":1,"0":2}\n{"a"}')).toBe('{"b":1,"0":2}\njq: parse error: Objects must consist of key:value pairs at line 2, column 5\n');
  });
});

describe('a flow keeps the order through its jq node', () => {
  let dk: Datakit;
  beforeAll(async () => {
    dk = await engine();
  });
  afterAll(async () => {
    await dk.close();
  });

  it('request body in, response body out', async () => {
    const cfg = {
      nodes: [
        { name: 'J', type: 'jq', input: 'request.body', jq: '. + {"1": "one", z: keys_unsorted}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    };
    const r = await dk.load(cfg).run({
      method: 'POST',
      path: '/',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('{"b":1,"0":{"y":1,"2":2},"a":3}'),
    });
    expect(text(r.response.body)).toBe('{"b":1,"0":{"y":1,"2":2},"a":3,"1":"one","z":["b","0","a"]}');
  });
});
