/**
 * node:vm for the browser bundle: host/jq runs backtracking regexes in a
 * vm context to stop them after jq_time_ms. A page has no such interrupt,
 * so the function just runs (a runaway regex only blocks this tab).
 */
export function createContext<T extends object>(sandbox: T): T {
  return sandbox;
}

export class Script {
  runInContext(context: { fn: (() => unknown) | null }): unknown {
    return context.fn!();
  }
}

export default { createContext, Script };
