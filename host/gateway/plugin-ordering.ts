/**
 * Kong's dynamic plugin ordering: a plugin's `ordering` moves it before or
 * after other plugins in the access phase only (`before: {access: [names]}`,
 * `after: {access: [names]}`). Every other phase keeps the static priority
 * order (Kong fixed a leak of `ordering` into header_filter/body_filter/log).
 */
import type { FieldErrors } from '../plugins/types.js';

/** The only phase Kong's schema accepts as a key of `before` / `after`. */
export const ORDERING_PHASES = ['access'] as const;

export interface OrderingSpec {
  before: string[];
  after: string[];
}

/** Checks an `ordering` value with Kong's schema messages; undefined when valid. */
export function orderingErrors(value: unknown): FieldErrors | string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return 'expected a record';
  const errs: FieldErrors = {};
  for (const [key, side] of Object.entries(value as Record<string, unknown>)) {
    if (key !== 'before' && key !== 'after') {
      errs[key] = 'unknown field';
      continue;
    }
    if (side === null) continue;
    if (typeof side !== 'object' || Array.isArray(side)) {
      errs[key] = 'expected a map';
      continue;
    }
    // Kong validates a map's keys then values and reports the first failure at the map
    for (const [phase, names] of Object.entries(side as Record<string, unknown>)) {
      if (!(ORDERING_PHASES as readonly string[]).includes(phase)) {
        errs[key] = `expected one of: ${ORDERING_PHASES.join(', ')}`;
        break;
      }
      if (!Array.isArray(names)) {
        errs[key] = 'expected an array';
        break;
      }
      if (!names.every((n) => typeof n === 'string')) {
        errs[key] = 'expected a string';
        break;
      }
    }
  }
  return Object.keys(errs).length ? errs : undefined;
}

/** The access-phase constraints of a valid `ordering` (empty lists when none). */
export function orderingSpec(value: unknown): OrderingSpec | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const o = value as { before?: { access?: string[] } | null; after?: { access?: string[] } | null };
  const before = o.before?.access ?? [];
  const after = o.after?.access ?? [];
  return before.length || after.length ? { before, after } : undefined;
}

export interface Orderable {
  name: string;
  priority: number;
  ordering?: OrderingSpec;
}

export class OrderingCycle extends Error {
  constructor(
    /** the plugin names around the cycle, the first repeated at the end */
    readonly cycle: string[],
  ) {
    super(`dynamic ordering of plugins forms a cycle: ${cycle.join(' -> ')}`);
  }
}

/**
 * The access-phase order of the plugins of one request: priority order
 * (higher first, then name), where a plugin that must run before another is
 * pulled up to just ahead of it (a depth-first topological sort over the
 * priority order, so plugins without constraints keep their places).
 * Constraints that name a plugin the request does not run are ignored.
 * Throws OrderingCycle when the constraints contradict each other.
 */
export function accessOrder<T extends Orderable>(plugins: T[]): T[] {
  if (!plugins.some((p) => p.ordering)) return plugins;
  const byName = new Map(plugins.map((p) => [p.name, p]));
  // for each plugin, those that must run before it
  const before = new Map<string, Set<string>>(plugins.map((p) => [p.name, new Set<string>()]));
  for (const p of plugins) {
    if (!p.ordering) continue;
    for (const n of p.ordering.before) if (byName.has(n)) before.get(n)!.add(p.name);
    for (const n of p.ordering.after) if (byName.has(n)) before.get(p.name)!.add(n);
  }
  const rank = (a: string, b: string) => byName.get(b)!.priority - byName.get(a)!.priority || a.localeCompare(b);
  const out: T[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const at = stack.indexOf(name);
    if (at >= 0) throw new OrderingCycle([...stack.slice(at), name]);
    stack.push(name);
    for (const first of [...before.get(name)!].sort(rank)) visit(first);
    stack.pop();
    done.add(name);
    out.push(byName.get(name)!);
  };
  for (const p of plugins) visit(p.name);
  return out;
}
