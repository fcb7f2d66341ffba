import { compile } from '../jq/index.js';
import type { JqSyntax } from '../jq/parser.js';
import { LimitExceeded, type Limits } from '../limits.js';

/** What the host needs from a jq implementation: compile once per node at
 * configure time, run per request. Any engine with this shape can be
 * plugged in (`Datakit.create({ jq })`), e.g. a reference implementation. */
export interface JqEngine {
  /** `limits`: the budgets every run of this program is held to (jq_time_ms, jq_memory_bytes, jq_steps) */
  compile(filter: string, variables: string[], limits?: Limits, syntax?: JqSyntax): JqCompiled;
}

export interface JqCompiled {
  /** all outputs of the filter for one input; throws with jq's message */
  run(input: unknown, variables: Record<string, unknown>): unknown[];
  /**
   * Optional: the exact text path. The input as JSON text, the run's
   * variables made from the parsed input, and the outputs as one JSON array
   * text, objects' keys in jq's order (a plain JS object would list keys like
   * "0" first). Without it the engine parses and serializes around `run`.
   */
  runText?(inputJson: string, variablesOf: (input: unknown) => Record<string, unknown>): string;
  /**
   * Optional: the constant input paths the filter reads (e.g. [["a","b"]]
   * for `.a.b`), or null when it may use its whole input. With paths, the
   * engine passes only those parts of a large input.
   */
  readonly inputPaths?: string[][] | null;
  /**
   * Optional: the filter as a small tree of paths, literals, object
   * construction, `//`, `+`, `*`, `==` and `!=` (host/jq/simple.ts), or null.
   * With it, the engine evaluates the filter itself when it can and calls
   * `run` for everything else.
   */
  readonly simple?: unknown[] | null;
}

/**
 * The project's own compile-once engine (host/jq). Every run is held to the
 * flow's jq budgets (a run past one throws `LimitExceeded`), and `$ENV` /
 * `env` are empty: flows never see the process environment.
 */
export const nativeJq: JqEngine = {
  compile(filter, variables, limits, syntax) {
    // compiling runs on the event loop at configure time: its size is the bound
    const max = limits?.jq_source_bytes;
    if (max !== undefined && filter.length * 3 > max) {
      const size = Buffer.byteLength(filter);
      if (size > max) throw new LimitExceeded('jq_source_bytes', `jq program is ${size} bytes; the limit is ${max} (limits.jq_source_bytes)`);
    }
    const program = compile(filter, { variables, limits, syntax });
    return {
      run: (input, vars) => program.run(input, { variables: vars }),
      runText: (inputJson, variablesOf) => '[' + program.runText(inputJson, { variablesOf }).join(',') + ']',
      inputPaths: program.inputPaths,
      simple: program.simple,
    };
  },
};
