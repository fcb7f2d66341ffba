// The host conformance kit against the library host (host/flow.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { loadCases, runCase } from './runner.js';
import { libraryHost } from './hosts.js';

const cases = loadCases();
const host = libraryHost();

describe(`host conformance kit: ${host.name}`, () => {
  afterAll(() => host.close?.());

  it('has at least 21 cases covering every node type, both phases and the implicit nodes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(21);
    const types = new Set(cases.flatMap((c) => (c.flow.nodes as Array<{ type: string }>).map((n) => n.type)));
    for (const t of ['call', 'jq', 'handlebars', 'exit', 'property', 'static', 'branch', 'cache', 'xml_to_json', 'json_to_xml', 'jwt_decode', 'jwt_sign', 'jwt_verify']) {
      expect(types, t).toContain(t);
    }
    const text = JSON.stringify(cases.map((c) => c.flow));
    for (const port of ['request.', 'service_request.', 'service_response.', 'response.', 'vault.']) expect(text).toContain(port);
  });

  for (const c of cases) {
    it(`${c.name}: ${c.description}`, async () => {
      const { actual, expected } = await runCase(host, c);
      expect(actual).toEqual(expected);
    });
  }
});
