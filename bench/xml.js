// XML conversions through the engine: what a small (1 KB) conversion costs
// per request, and how long the event loop stalls while a 5 MB document
// converts (docs/PERFORMANCE.md, "XML conversions"). Run after `npm run build`:
//   node bench/xml.js [--quick]
// It measures through flows only, so it runs unchanged against an older build.
import { Datakit } from '../dist/host/index.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;
const N = quick ? 1000 : 5000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const utf8 = new TextEncoder();

/** `n` records with attributes, typed values, entities and CDATA. */
function records(n) {
  const parts = ['<records source="bench">'];
  for (let i = 0; i < n; i++) {
    parts.push(
      `<record id="${i}" kind="plain"><name>Name ${i} &lt;x&gt;</name><age>${20 + (i % 50)}</age>` +
        `<active>${i % 2 === 0}</active><note><![CDATA[a < b]]></note><tag>t1</tag><tag>t2</tag></record>`,
    );
  }
  parts.push('</records>');
  return parts.join('');
}
const recordsOfSize = (bytes) => records(Math.ceil(bytes / (records(2).length - records(1).length)));

const convert = (type) => ({
  nodes: [
    { name: 'CONVERT', type, attributes_name_prefix: '@', input: 'request.body' },
    { name: 'EXIT', type: 'exit', inputs: { body: 'CONVERT' } },
  ],
});
const post = (contentType, body) => ({ method: 'POST', path: '/', headers: { Host: 'bench', 'content-type': contentType }, body: utf8.encode(body) });

async function runOnce(flow, request) {
  const run = flow.newRequest(request);
  const out = await run.request();
  if (out.failure) throw new Error(out.failure.message);
  run.done();
  return out;
}

/** µs per request, median of RUNS. */
async function perRequest(flow, request) {
  for (let i = 0; i < 500; i++) await runOnce(flow, request);
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await runOnce(flow, request);
    times.push(((performance.now() - t0) * 1000) / N);
  }
  return median(times);
}

/** One large conversion: wall time and the longest event-loop stall (a 2 ms timer firing late) while it runs. */
async function stall(flow, request) {
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 2);
    last = now;
  }, 2);
  await new Promise((r) => setTimeout(r, 20));
  worst = 0;
  const t0 = performance.now();
  await runOnce(flow, request);
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  return { ms, worst };
}

const dk = await Datakit.create({ logger: { log() {} } });
const x2j = dk.load(convert('xml_to_json'));
const j2x = dk.load(convert('json_to_xml'));

const small = records(5);
const smallJson = JSON.stringify({ records: { record: Array.from({ length: 5 }, (_, i) => ({ '@id': i, name: `Name ${i}`, age: 20 + i, tag: ['t1', 't2'] })) } });
const rows = [];
rows.push(['xml_to_json, 1 KB', `${small.length} B`, `${(await perRequest(x2j, post('application/xml', small))).toFixed(1)} µs/request`]);
rows.push(['json_to_xml, 1 KB', `${smallJson.length} B`, `${(await perRequest(j2x, post('application/json', smallJson))).toFixed(1)} µs/request`]);

const big = recordsOfSize(5_000_000);
const bigJson = new TextDecoder().decode((await runOnce(x2j, post('application/xml', big))).response.body);
for (const [name, flow, request] of [
  ['xml_to_json, 5 MB', x2j, post('application/xml', big)],
  ['json_to_xml, 5 MB XML as JSON', j2x, post('application/json', bigJson)],
]) {
  const tries = [];
  for (let r = 0; r < (quick ? 2 : 3); r++) tries.push(await stall(flow, request));
  const best = tries.sort((a, b) => a.worst - b.worst)[Math.floor(tries.length / 2)];
  const size = name.startsWith('xml') ? big.length : bigJson.length;
  rows.push([name, `${(size / 1e6).toFixed(1)} MB`, `${best.ms.toFixed(0)} ms, longest event-loop stall ${best.worst.toFixed(0)} ms`]);
}
await dk.close();

for (const [name, size, result] of rows) console.log(`${name.padEnd(32)} ${size.padStart(9)}  ${result}`);
