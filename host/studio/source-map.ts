/**
 * The flow's YAML text and where things are in it: the plugin config it
 * holds (a bare config or a datakit plugin entry) and the line of each node
 * and field, so an engine error can be pinned to its line.
 */
import YAML, { LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';

export interface FlowSource {
  /** the plugin config, or undefined with a parse error */
  config?: Record<string, unknown>;
  parseError?: { message: string; line: number };
  /** 1-based line of a node (by 1-based index) or of one of its fields */
  lineOf(index: number, field?: string): number | undefined;
}

export function readFlowSource(text: string): FlowSource {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const none = (): undefined => undefined;
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    return { parseError: { message: e.message.split('\n')[0], line: lines.linePos(e.pos[0]).line }, lineOf: none };
  }
  const value = doc.toJS() as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { parseError: { message: 'expected a datakit plugin config (a mapping with "nodes")', line: 1 }, lineOf: none };
  const top = value as Record<string, unknown>;
  // a plugin entry (`name: datakit`, `config: {...}`) or the config itself
  const entry = top.name === 'datakit' && top.config !== null && typeof top.config === 'object';
  const prefix = entry ? ['config'] : [];
  const config = (entry ? top.config : top) as Record<string, unknown>;
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as YamlNode | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  return {
    config,
    lineOf(index, field) {
      const nodes = doc.getIn([...prefix, 'nodes'], true);
      if (!isSeq(nodes)) return undefined;
      const item = nodes.items[index - 1];
      if (field !== undefined && isMap(item)) {
        const first = field.split('.')[0];
        const pair = item.items.find((p) => (p.key as { value?: unknown } | null)?.value === first);
        if (pair) return lineAt(pair.key);
      }
      return lineAt(item);
    },
  };
}
