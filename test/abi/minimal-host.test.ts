// The host conformance kit against examples/minimal-host.mjs, the host
// written from docs/host-abi.md alone (spawned as a user runs it).
import { afterAll, describe, expect, it } from 'vitest';
import { loadCases, runCase } from './runner.js';
import { minimalHost } from './hosts.js';

const host = minimalHost();

describe(`host conformance kit: ${host.name}`, () => {
  afterAll(() => host.close?.());

  for (const c of loadCases()) {
    it(`${c.name}: ${c.description}`, async () => {
      const { actual, expected } = await runCase(host, c);
      expect(actual).toEqual(expected);
    });
  }
});
