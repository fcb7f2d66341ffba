// `npm run fuzz:jq -- --seconds N [--seed S] [--out DIR] [--count N] [--no-shrink]`:
// a longer differential run against jq-wasm; every distinct minimal
// disagreement is written to DIR (default fuzz-findings/).
import { formatStats, runFuzz } from './runner.js';
import { summaryLine } from './findings.js';

function parseArgs(argv: string[]): { seconds?: number; count?: number; seed: number; out: string; shrink: boolean } {
  const o = { seconds: undefined as number | undefined, count: undefined as number | undefined, seed: Date.now() % 1_000_000, out: 'fuzz-findings', shrink: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--count') o.count = Number(value());
    else if (a === '--seed') o.seed = Number(value());
    else if (a === '--out') o.out = value();
    else if (a === '--no-shrink') o.shrink = false;
    else if (a === '--') continue;
    else throw new Error(`unknown option ${a} (use --seconds N, --count N, --seed S, --out DIR, --no-shrink)`);
  }
  if (o.seconds === undefined && o.count === undefined) o.seconds = 60;
  for (const [k, v] of Object.entries({ seconds: o.seconds, count: o.count, seed: o.seed }))
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`--${k} must be a non-negative number`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
console.log(`jq fuzz: seed ${opts.seed}, ${opts.count !== undefined ? `${opts.count} cases` : `${opts.seconds} s`}, findings in ${opts.out}/`);
const stats = await runFuzz({ seed: opts.seed, seconds: opts.seconds, count: opts.count, outDir: opts.out, shrink: opts.shrink, log: (l) => console.log(l) });
console.log('');
console.log(formatStats(stats));
if (stats.findings.length) {
  console.log('\nfindings:');
  for (const f of stats.findings) console.log(summaryLine(f));
}
process.exitCode = stats.findings.length ? 1 : 0;
