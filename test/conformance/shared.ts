// Where the external reference suites live for `npm run test:conformance`:
// $DATAKIT_SHARED, or ../shared beside the repository. `npm test` never
// imports this file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const sharedDir = resolve(process.env.DATAKIT_SHARED ?? resolve(root, '../shared'));

if (!existsSync(sharedDir)) {
  throw new Error(`conformance suites not found at ${sharedDir}: set DATAKIT_SHARED to the folder holding flows/ and conformance/jq/`);
}

/** Kong's published flow configurations (the datakit plugin's config objects). */
export const sharedFlowsDir = resolve(sharedDir, 'flows');
/** jq 1.7.1's own .test suites. */
export const jqSuiteDir = resolve(sharedDir, 'conformance/jq');
