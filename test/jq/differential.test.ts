// Differential test against the reference jq (jq-wasm): filters generated from
// a small grammar, on sample documents, must give the same outputs (compared
// as JSON values), or both must fail. Deterministic seed; bounded size.
import { compareWithReference, DOCS, gen, pick, rnd, type Case } from './differential-harness.js';

const cases: Case[] = [];
for (let i = 0; i < 500; i++) cases.push({ filter: gen(1 + Math.floor(rnd() * 3)), input: pick(DOCS) });

compareWithReference('generated cases', cases);
