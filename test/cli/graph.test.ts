// `datakit graph`: a small flow drawn as Mermaid, DOT and JSON (exact
// fixtures) and as SVG (structure: valid XML, one <g> per node, one path
// per connection), and the errors of an invalid flow or a bad format.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { graphCli } from '../../host/cli/graph.js';

/** A guard in the request phase, a header from the upstream status in the response phase. */
const FLOW = `nodes:
  - name: ROLE
    type: jq
    input: request.headers
    jq: '.["X-Role"] == "admin"'
  - name: CHECK
    type: branch
    input: ROLE
    else: [DENY]
  - name: DENY
    type: exit
    status: 403
  - name: TAG
    type: jq
    inputs:
      status: service_response.status
    jq: '{"X-Status": (.status | tostring)}'
    output: response.headers
`;

const dir = mkdtempSync(join(tmpdir(), 'dk-graph-'));
const flowFile = join(dir, 'flow.yaml');
writeFileSync(flowFile, FLOW);

async function graph(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk, _enc, done) => (append(String(chunk)), done()) });
  const code = await graphCli(args, sink((s) => (out += s)), sink((s) => (err += s)));
  return { code, out, err };
}

const MERMAID = `flowchart LR
  subgraph request_phase["request phase"]
    direction LR
    n1["<b>ROLE</b><br/>jq"]
    n2["<b>CHECK</b><br/>branch"]
    n3["<b>DENY</b><br/>exit"]
    n5[["<b>request</b><br/><i>implicit</i><br/>out: headers"]]
  end
  subgraph response_phase["response phase"]
    direction LR
    n4["<b>TAG</b><br/>jq<br/>in: status"]
    n6[["<b>service_response</b><br/><i>implicit</i><br/>out: status"]]
    n7[["<b>response</b><br/><i>implicit</i><br/>in: headers"]]
  end
  n5 ==>|"headers → *"| n1
  n1 ==>|"* → *"| n2
  n2 -.->|else| n3
  n6 -->|"status → status"| n4
  n4 ==>|"* → headers"| n7
`;

const DOT = `digraph flow {
  rankdir=LR;
  node [shape=record, fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  subgraph cluster_request {
    label="request phase";
    style=rounded;
    "ROLE" [label="{ROLE\\njq}"];
    "CHECK" [label="{CHECK\\nbranch}"];
    "DENY" [label="{DENY\\nexit}"];
    "request" [label="{request\\nimplicit|{<out_0> headers}}", style=dashed];
  }
  subgraph cluster_response {
    label="response phase";
    style=rounded;
    "TAG" [label="{{<in_0> status}|TAG\\njq}"];
    "service_response" [label="{service_response\\nimplicit|{<out_0> status}}", style=dashed];
    "response" [label="{{<in_0> headers}|response\\nimplicit}", style=dashed];
  }
  "request":out_0 -> "ROLE" [style=bold];
  "ROLE" -> "CHECK" [style=bold];
  "CHECK" -> "DENY" [style=dashed, label="else"];
  "service_response":out_0 -> "TAG":in_0;
  "TAG" -> "response":in_0 [style=bold];
}
`;

const JSON_LAYOUT = {
  "width": 1048,
  "height": 154,
  "nodes": [
    {
      "id": "ROLE",
      "name": "ROLE",
      "type": "jq",
      "implicit": false,
      "phase": "request",
      "index": 1,
      "inputs": [],
      "outputs": [],
      "x": 183,
      "y": 78,
      "width": 50,
      "height": 34,
      "ports": []
    },
    {
      "id": "CHECK",
      "name": "CHECK",
      "type": "branch",
      "implicit": false,
      "phase": "request",
      "index": 2,
      "inputs": [],
      "outputs": [],
      "x": 293,
      "y": 78,
      "width": 76,
      "height": 34,
      "ports": []
    },
    {
      "id": "DENY",
      "name": "DENY",
      "type": "exit",
      "implicit": false,
      "phase": "request",
      "index": 3,
      "inputs": [],
      "outputs": [],
      "x": 429,
      "y": 78,
      "width": 62,
      "height": 34,
      "ports": []
    },
    {
      "id": "TAG",
      "name": "TAG",
      "type": "jq",
      "implicit": false,
      "phase": "response",
      "index": 4,
      "inputs": [
        "status"
      ],
      "outputs": [],
      "x": 773,
      "y": 78,
      "width": 92,
      "height": 60,
      "ports": [
        {
          "name": "status",
          "direction": "in",
          "x": 769,
          "y": 120
        }
      ]
    },
    {
      "id": "request",
      "name": "request",
      "type": "request",
      "implicit": true,
      "phase": "request",
      "index": 0,
      "inputs": [],
      "outputs": [
        "headers"
      ],
      "x": 16,
      "y": 36,
      "width": 99,
      "height": 60,
      "ports": [
        {
          "name": "headers",
          "direction": "out",
          "x": 119,
          "y": 78
        }
      ]
    },
    {
      "id": "service_response",
      "name": "service_response",
      "type": "service_response",
      "implicit": true,
      "phase": "response",
      "index": 0,
      "inputs": [],
      "outputs": [
        "status"
      ],
      "x": 551,
      "y": 78,
      "width": 146,
      "height": 60,
      "ports": [
        {
          "name": "status",
          "direction": "out",
          "x": 701,
          "y": 120
        }
      ]
    },
    {
      "id": "response",
      "name": "response",
      "type": "response",
      "implicit": true,
      "phase": "response",
      "index": 0,
      "inputs": [
        "headers"
      ],
      "outputs": [],
      "x": 933,
      "y": 36,
      "width": 99,
      "height": 60,
      "ports": [
        {
          "name": "headers",
          "direction": "in",
          "x": 929,
          "y": 78
        }
      ]
    }
  ],
  "edges": [
    {
      "id": "e1",
      "kind": "node",
      "from": {
        "node": "request",
        "port": "headers"
      },
      "to": {
        "node": "ROLE"
      },
      "points": [
        {
          "x": 123,
          "y": 78
        },
        {
          "x": 183,
          "y": 78
        }
      ]
    },
    {
      "id": "e2",
      "kind": "node",
      "from": {
        "node": "ROLE"
      },
      "to": {
        "node": "CHECK"
      },
      "points": [
        {
          "x": 233,
          "y": 78
        },
        {
          "x": 293,
          "y": 78
        }
      ]
    },
    {
      "id": "e3",
      "kind": "control",
      "from": {
        "node": "CHECK"
      },
      "to": {
        "node": "DENY"
      },
      "label": "else",
      "points": [
        {
          "x": 369,
          "y": 78
        },
        {
          "x": 429,
          "y": 78
        }
      ]
    },
    {
      "id": "e4",
      "kind": "field",
      "from": {
        "node": "service_response",
        "port": "status"
      },
      "to": {
        "node": "TAG",
        "port": "status"
      },
      "points": [
        {
          "x": 705,
          "y": 120
        },
        {
          "x": 765,
          "y": 120
        }
      ]
    },
    {
      "id": "e5",
      "kind": "node",
      "from": {
        "node": "TAG"
      },
      "to": {
        "node": "response",
        "port": "headers"
      },
      "points": [
        {
          "x": 865,
          "y": 78
        },
        {
          "x": 925,
          "y": 78
        }
      ]
    }
  ],
  "phases": [
    {
      "phase": "request",
      "x": 0,
      "y": 0,
      "width": 507,
      "height": 128
    },
    {
      "phase": "response",
      "x": 535,
      "y": 0,
      "width": 513,
      "height": 154
    }
  ]
};

describe('datakit graph', () => {
  it('mermaid (the default): phases as subgraphs, implicit nodes, field, node-wise and branch edges', async () => {
    expect(await graph([flowFile])).toEqual({ code: 0, out: MERMAID, err: '' });
  });

  it('dot: clusters per phase, record ports, edge styles by kind', async () => {
    expect(await graph([flowFile, '--format', 'dot'])).toEqual({ code: 0, out: DOT, err: '' });
  });

  it('json: the graph with its elkjs layout (response-phase nodes right of the request phase)', async () => {
    const r = await graph([flowFile, '-f', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(JSON_LAYOUT);
    const box = Object.fromEntries(JSON_LAYOUT.phases.map((p) => [p.phase, p]));
    expect(box.request.x + box.request.width).toBeLessThan(box.response.x);
  });

  it('svg: valid XML, one <g> per node, one path per connection, the phases drawn', async () => {
    const out = join(dir, 'flow.svg');
    const r = await graph([flowFile, '-f', 'svg', '-o', out]);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    const text = (await import('node:fs')).readFileSync(out, 'utf8');
    expect(XMLValidator.validate(text)).toBe(true);
    const svg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text).svg;
    const groups = [svg.g].flat();
    expect(groups.map((g: { 'data-name': string }) => g['data-name'])).toEqual(['ROLE', 'CHECK', 'DENY', 'TAG', 'request', 'service_response', 'response']);
    expect(groups.every((g: { rect: unknown; text: unknown }) => g.rect !== undefined && g.text !== undefined)).toBe(true);
    const paths = [svg.path].flat().filter((p: { class?: string }) => p.class?.startsWith('edge'));
    expect(paths.map((p: { class: string; 'data-from': string; 'data-to': string }) => `${p.class} ${p['data-from']}->${p['data-to']}`)).toEqual([
      'edge node request->ROLE',
      'edge node ROLE->CHECK',
      'edge control CHECK->DENY',
      'edge field service_response->TAG',
      'edge node TAG->response',
    ]);
    const phases = [svg.rect].flat().filter((p: { class?: string }) => p.class === 'phase');
    expect(phases.map((p: { 'data-phase': string }) => p['data-phase'])).toEqual(['request', 'response']);
  });

  it('an invalid flow: exit 1 with the engine\'s errors, nothing drawn', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'nodes:\n  - name: A\n    type: jq\n    jq: ".a |"\n    input: NOPE\n');
    const r = await graph([bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${bad}: invalid configuration`);
    expect(r.err).toContain('NOPE');
  });

  it('a declarative file: its only datakit plugin, or the one --at names', async () => {
    const decl = join(dir, 'kong.yaml');
    const plugin = (status: number) => `
      - name: datakit
        config:
          nodes:
            - name: ANSWER
              type: exit
              status: ${status}`;
    writeFileSync(decl, `_format_version: "3.0"\nroutes:\n  - name: r\n    paths: [/r]\n    plugins:${plugin(201)}${plugin(202)}\n`);
    const both = await graph([decl]);
    expect(both.code).toBe(1);
    expect(both.err).toContain('2 datakit plugins; choose one with --at: routes[0].plugins[0].config, routes[0].plugins[1].config');
    const second = await graph([decl, '--at', 'routes[0].plugins[1].config', '-f', 'json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out).nodes.map((n: { name: string }) => n.name)).toEqual(['ANSWER']);
    const missing = await graph([decl, '--at', 'routes[0].plugins[5].config']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no datakit plugin at routes[0].plugins[5].config');
  });

  it('every gallery flow draws in every format: as many <g> as JSON nodes, an edge per connection', async () => {
    const gallery = fileURLToPath(new URL('../../examples/flows/', import.meta.url));
    const flows = readdirSync(gallery).filter((f) => f.endsWith('.yaml'));
    expect(flows.length).toBeGreaterThan(10);
    for (const f of flows) {
      const file = join(gallery, f);
      const json = await graph([file, '-f', 'json']);
      expect(json.code, f).toBe(0);
      const laid = JSON.parse(json.out) as { nodes: Array<{ name: string }>; edges: Array<{ from: { node: string }; to: { node: string }; points: unknown[] }> };
      const names = new Set(laid.nodes.map((n) => n.name));
      expect(laid.edges.every((e) => names.has(e.from.node) && names.has(e.to.node) && e.points.length >= 2), f).toBe(true);
      const svg = await graph([file, '-f', 'svg']);
      expect(XMLValidator.validate(svg.out), f).toBe(true);
      expect(svg.out.match(/<g class="node/g)?.length, f).toBe(laid.nodes.length);
      expect(svg.out.match(/<path class="edge/g)?.length, f).toBe(laid.edges.length);
      for (const format of ['mermaid', 'dot']) expect((await graph([file, '-f', format])).code, `${f} ${format}`).toBe(0);
    }
  });

  it('an unknown format is a usage error (exit 2)', async () => {
    const r = await graph([flowFile, '--format', 'png']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--format must be one of mermaid, dot, svg, json');
  });
});
