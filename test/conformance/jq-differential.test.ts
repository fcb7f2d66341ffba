// Programs of jq 1.7.1's own suites, each on its own input or on one of the
// harness's sample documents, through our jq and the reference jq (jq-wasm).
import { compareWithReference, DOCS, pick, rnd, type Case } from '../jq/differential-harness.js';
import { parseJsonText } from '../../host/jq/json.js';
import { plainValue } from '../../host/jq/values.js';
import { loadSuites } from './jq-suite.js';
import { EXCLUDED } from './jq-exclusions.js';

const suite = loadSuites().filter(
  (c) => c.kind === 'ok' && EXCLUDED[c.id] === undefined && !/import|include|modulemeta|input|\$ENV|env|now|debug|stderr|halt|\$__loc__|localtime|strflocaltime|mktime|gmtime|strptime|strftime|@base32d|ltrimstr\(1\)|getpath|abs|toarray|trim|have_|pick|splits|ascii\b|limit\(-|significand|gamma|frexp|ldexp|drem|nearbyint|logb|repeat/.test(c.prog),
) as Extract<ReturnType<typeof loadSuites>[number], { kind: 'ok' }>[];

const cases: Case[] = [];
for (let i = 0; i < 300 && suite.length; i++) {
  const c = pick(suite);
  let input: unknown;
  try {
    input = rnd() < 0.5 ? plainValue(parseJsonText(c.input, Infinity, false)) : pick(DOCS);
  } catch {
    input = pick(DOCS);
  }
  cases.push({ filter: c.prog, input });
}

compareWithReference('suite programs', cases);
