/**
 * Reading a datakit debug trace (docs/flows.md, "Traces"): Kong 3.11+'s
 * object of `nodes` and `events`, or the 3.10 filter's list of actions that
 * 3.10-shaped flows answer with: each node's status, time and the values it
 * ran with, for the graph overlay.
 */

export type NodeStatus = 'complete' | 'error' | 'canceled' | 'skipped' | 'pending';

export interface NodeOverlay {
  status: NodeStatus;
  /** milliseconds from the node's run to its completion or failure */
  ms?: number;
  inputs?: unknown;
  outputs?: unknown;
  error?: string;
}

export type Overlay = Record<string, NodeOverlay>;

const STATUS: Record<string, NodeStatus> = {
  NODE_COMPLETE: 'complete',
  NODE_ERROR: 'error',
  NODE_CANCELED: 'canceled',
  NODE_SKIPPED: 'skipped',
  NODE_PENDING: 'pending',
};

interface TraceValue {
  key?: string;
  type?: string;
  value?: unknown;
}

interface TraceEvent {
  name: string;
  action: string;
  at: number;
  values?: TraceValue[];
  value?: unknown;
  error?: string;
}

/** A trace's values as one object (`key` -> value), or the node-wise value. */
function valuesOf(values: TraceValue[] | undefined): unknown {
  if (!values || values.length === 0) return undefined;
  if (values.length === 1 && values[0].key === undefined) return values[0].value;
  const out: Record<string, unknown> = {};
  for (const v of values) if (v.key !== undefined && v.type !== 'error') out[v.key] = v.value;
  return out;
}

/** One action of a 3.10 trace: `run`/`resume` name the node's type, `value`/`wait`/`fail` carry its port values. */
interface Action310 {
  action: string;
  name: string;
  at?: number;
  values?: Array<{ data_type?: string; value?: unknown }>;
}

/** A 3.10 action's port values: one port as its value, several as a list in port order. */
function values310(values: Action310['values']): unknown {
  if (!values || values.length === 0) return undefined;
  const vs = values.map((v) => (v.data_type === 'none' ? null : v.value));
  return vs.length === 1 ? vs[0] : vs;
}

function overlayFrom310(actions: Action310[]): Overlay {
  const overlay: Overlay = {};
  const started: Record<string, number> = {};
  for (const a of actions) {
    if (a === null || typeof a !== 'object' || typeof a.name !== 'string' || typeof a.action !== 'string') {
      throw new Error('not a datakit debug trace (a 3.10 trace is a list of {action, name} entries)');
    }
    const o = (overlay[a.name] ??= { status: 'pending' });
    const elapsed = () => (started[a.name] !== undefined && a.at !== undefined ? Math.max(0, (a.at - started[a.name]) * 1000) : undefined);
    if (a.action === 'run') {
      if (a.at !== undefined) started[a.name] = a.at;
    } else if (a.action === 'value') {
      o.status = 'complete';
      o.outputs = values310(a.values);
      o.ms = elapsed() ?? o.ms;
    } else if (a.action === 'fail') {
      o.status = 'error';
      const failed = a.values?.find((v) => v.data_type === 'fail');
      if (typeof failed?.value === 'string') o.error = failed.value;
      o.ms = elapsed() ?? o.ms;
    }
  }
  return overlay;
}

/** Parses a trace (text or value); throws with a readable reason when it is not one. */
export function overlayFromTrace(trace: unknown): Overlay {
  const parsed = typeof trace === 'string' ? JSON.parse(trace) : trace;
  if (Array.isArray(parsed)) return overlayFrom310(parsed as Action310[]);
  const t = parsed as { nodes?: unknown; events?: unknown };
  if (t === null || typeof t !== 'object' || !Array.isArray(t.nodes) || !Array.isArray(t.events)) throw new Error('not a datakit debug trace (expected "nodes" and "events")');
  const overlay: Overlay = {};
  for (const n of t.nodes as Array<{ name: string; status: string; error?: string }>) {
    overlay[n.name] = { status: STATUS[n.status] ?? 'pending', ...(n.error !== undefined && { error: n.error }) };
  }
  const started: Record<string, number> = {};
  for (const e of t.events as TraceEvent[]) {
    const o = (overlay[e.name] ??= { status: 'pending' });
    if (e.action === 'run') {
      started[e.name] = e.at;
      o.inputs = valuesOf(e.values);
    } else if (e.action === 'complete' || e.action === 'fail' || e.action === 'cancel') {
      if (started[e.name] !== undefined) o.ms = Math.max(0, (e.at - started[e.name]) * 1000);
      if (e.action === 'complete') o.outputs = e.value !== undefined ? e.value : valuesOf(e.values);
      if (e.action === 'fail') {
        const err = e.values?.find((v) => v.type === 'error');
        o.error = e.error ?? (typeof err?.value === 'string' ? err.value : o.error);
        const partial = valuesOf(e.values?.filter((v) => v.type !== 'error'));
        if (partial !== undefined) o.outputs = partial;
      }
    }
  }
  return overlay;
}
