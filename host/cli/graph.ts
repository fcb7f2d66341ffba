/**
 * `datakit graph FLOW [--format mermaid|dot|svg|json] [-o FILE]`: draws a
 * flow. The flow is read as `datakit run` reads it and configured by the
 * engine, so what is drawn is a flow the engine accepts, with the phases it
 * assigned; an invalid flow prints its errors instead.
 */
import { writeFile } from 'node:fs/promises';
import { parseCommand, readInput, UsageError } from './args.js';
import { findDatakitConfigs, parseConfigText } from '../config.js';
import { Datakit, DatakitConfigError } from '../flow.js';
import { flowGraph, layoutGraph, renderDot, renderMermaid, renderSvg, type FlowGraph } from '../graph/index.js';

export const GRAPH_HELP = `usage: datakit graph FLOW [--format mermaid|dot|svg|json] [-o FILE] [--at PATH]

Draws a flow: its nodes with their types and connected ports, the implicit
nodes it uses (request, vault, service_request, service_response,
response), field-level connections (output -> input), node-wise ones,
branch then/else edges, and the request and response phases apart.
FLOW is a datakit plugin config (YAML or JSON), a datakit plugin entry,
or a declarative file holding datakit plugins; "-" reads standard input.
The engine validates the flow first.

options:
  -f, --format F   mermaid (default), dot (Graphviz), svg, or json (the
                   graph with its layout: nodes, ports, edge points, phases)
  -o, --output F   write to a file instead of standard output
  --at PATH        which datakit plugin of a declarative file, by its path
                   (\`routes[0].plugins[1].config\`, as datakit validate names it)
  -h, --help       this help

Exit 0, 1 when the flow is invalid (its errors on standard error), 2 on a
usage error.
`;

const FORMATS = ['mermaid', 'dot', 'svg', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** The datakit config in a file's text: the only one, or the one at `at`. */
export function pickFlowConfig(text: string, at?: string): Record<string, unknown> {
  const found = findDatakitConfigs(parseConfigText(text));
  if (found.length === 0) throw new Error('no datakit plugin configuration found (expected "nodes", a datakit plugin entry, or a declarative file)');
  const chosen = at !== undefined ? found.find((f) => f.path === at) : found.length === 1 ? found[0] : undefined;
  if (chosen === undefined) {
    const paths = found.map((f) => f.path || '(top level)').join(', ');
    throw new Error(at !== undefined ? `no datakit plugin at ${at} (found: ${paths})` : `${found.length} datakit plugins; choose one with --at: ${paths}`);
  }
  if (chosen.config === null || typeof chosen.config !== 'object') throw new Error(`${chosen.path || 'config'}: expected a datakit plugin config (with "nodes")`);
  return chosen.config as Record<string, unknown>;
}

/** The graph of a flow the engine accepts; throws DatakitConfigError otherwise. */
export async function graphOfConfig(config: Record<string, unknown>): Promise<FlowGraph> {
  const dk = await Datakit.create({ logger: { log() {} } });
  try {
    const flow = dk.load(config);
    flow.close();
    return flowGraph(config, flow.nodes);
  } finally {
    await dk.close();
  }
}

export async function renderGraph(graph: FlowGraph, format: Format): Promise<string> {
  switch (format) {
    case 'mermaid':
      return renderMermaid(graph);
    case 'dot':
      return renderDot(graph);
    case 'svg':
      return renderSvg(await layoutGraph(graph));
    case 'json':
      return JSON.stringify(await layoutGraph(graph), null, 2) + '\n';
  }
}

export async function graphCli(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const parsed = parseCommand(
    { help: GRAPH_HELP, operands: { min: 1, max: 1 }, options: { format: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' }, at: { type: 'string' } } },
    args,
    out,
    err,
  );
  if (typeof parsed === 'number') return parsed;
  const format = (parsed.values.format ?? 'mermaid') as Format;
  if (!FORMATS.includes(format)) {
    err.write(`datakit: ${new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`).message}\n${GRAPH_HELP.split('\n')[0]}\n`);
    return 2;
  }
  const file = parsed.operands[0];
  let graph: FlowGraph;
  try {
    graph = await graphOfConfig(pickFlowConfig(await readInput(file), parsed.values.at));
  } catch (e) {
    if (e instanceof DatakitConfigError) {
      err.write(`${file}: invalid configuration\n${e.errors.map((x) => `  ${x.message}`).join('\n')}\n`);
      return 1;
    }
    err.write(`${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const text = await renderGraph(graph, format);
  if (parsed.values.output) await writeFile(parsed.values.output, text);
  else out.write(text);
  return 0;
}
