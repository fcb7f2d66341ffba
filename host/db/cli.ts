/**
 * `datakit migrations bootstrap|up|status --database DIR` (as `kong migrations`) and
 * `datakit config db_import FILE | db_export [FILE] --database DIR` (declarative <-> database).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import YAML from 'yaml';
import { GatewayCore } from '../gateway/core.js';
import { exportState, parseDocument } from '../gateway/declarative.js';
import { EntityStore } from './entity-store.js';
import { bootstrap, migrationStatus, up, NEEDS_BOOTSTRAP } from './migrate.js';
import { openDatabase } from './sql.js';
import { databaseLimitsFromEnv } from '../gateway/cli.js';
import { resolveDatabaseLimits } from '../limits.js';

export const MIGRATIONS_USAGE = `usage: datakit migrations bootstrap|up|status --database DIR|memory://|postgres://USER@HOST:PORT/DB
  bootstrap   a new database: create the schema (refused when already bootstrapped)
  up          run the migrations not run yet
  status      which migrations ran, which are pending (exit 1 when not up to date)
env DATAKIT_DATABASE stands for --database; the DATAKIT_DB_* limits (docs/SECURITY.md, "Database connection") bound a server's connection`;

export const CONFIG_USAGE = `usage: datakit config db_import FILE --database DIR|postgres://...
       datakit config db_export [FILE] --database DIR|postgres://...
  db_import   validate a declarative file and make it the database's entities (all of them, replaced in one transaction)
  db_export   write the database's entities as a declarative file (YAML; JSON when FILE ends in .json; standard output without FILE)
env DATAKIT_DATABASE stands for --database; the DATAKIT_DB_* limits (docs/SECURITY.md, "Database connection") bound a server's connection`;

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
const processIo: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

function parse(argv: string[], usage: string, env: NodeJS.ProcessEnv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { database: { type: 'string', short: 'd' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new Error(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n${usage}`);
  }
  const database = parsed.values.database ?? (env.DATAKIT_DATABASE || undefined);
  return { help: !!parsed.values.help, positionals: parsed.positionals, database, limits: resolveDatabaseLimits(databaseLimitsFromEnv(env)) };
}

export async function migrationsCli(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const a = parse(argv, MIGRATIONS_USAGE, env);
  if (a.help) return io.stdout(MIGRATIONS_USAGE + '\n'), 0;
  const [command, ...extra] = a.positionals;
  if (!['bootstrap', 'up', 'status'].includes(command ?? '') || extra.length) return io.stderr(MIGRATIONS_USAGE + '\n'), 2;
  if (!a.database) return io.stderr(`--database DIR|postgres://... is required\n${MIGRATIONS_USAGE}\n`), 2;
  const db = await openDatabase(a.database, a.limits);
  try {
    if (command === 'bootstrap') {
      const r = await bootstrap(db);
      if (r.already) return io.stderr('Database already bootstrapped\n'), 1;
      io.stdout(`Bootstrapping database...\n${r.ran.map((n) => `migrating ${n}\n`).join('')}${r.ran.length} migration(s) executed\nDatabase is up-to-date\n`);
      return 0;
    }
    if (command === 'up') {
      const r = await up(db);
      if (!r.bootstrapped) return io.stderr(`${NEEDS_BOOTSTRAP}\n`), 1;
      if (!r.ran.length) return io.stdout('Database is already up-to-date\n'), 0;
      io.stdout(`${r.ran.map((n) => `migrating ${n}\n`).join('')}${r.ran.length} migration(s) executed\n`);
      return 0;
    }
    const s = await migrationStatus(db);
    if (!s.bootstrapped) return io.stdout(`${NEEDS_BOOTSTRAP}\n`), 1;
    io.stdout(`Executed migrations:\n${s.executed.map((n) => `  ${n}\n`).join('')}`);
    if (s.pending.length) return io.stdout(`Pending migrations:\n${s.pending.map((n) => `  ${n}\n`).join('')}Run 'datakit migrations up' to proceed\n`), 1;
    io.stdout('Database is up-to-date\n');
    return 0;
  } finally {
    await db.close();
  }
}

export async function configCli(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const a = parse(argv, CONFIG_USAGE, env);
  if (a.help) return io.stdout(CONFIG_USAGE + '\n'), 0;
  const [command, file, ...extra] = a.positionals;
  if (extra.length || !(command === 'db_export' || (command === 'db_import' && file))) return io.stderr(CONFIG_USAGE + '\n'), 2;
  if (!a.database) return io.stderr(`--database DIR|postgres://... is required\n${CONFIG_USAGE}\n`), 2;
  // a database with no schema yet is bootstrapped on import, refused on export
  const store = await EntityStore.open(a.database, { autoBootstrap: command === 'db_import', limits: a.limits });
  const logger = pino({ level: 'silent' });
  // the gateway's own validation (plugins, datakit flows, limits); it owns the store from here
  const core = await GatewayCore.create({ logger, store });
  try {
    if (command === 'db_import') {
      const doc = parseDocument(await readFile(file!, 'utf8'));
      await core.applyDocument(doc, { baseDir: GatewayCore.baseDirOf(file!) });
      const counts = Object.entries(await store.counts()).filter(([, n]) => n > 0);
      io.stdout(`parse successful\nimport successful: ${counts.map(([k, n]) => `${n} ${k}`).join(', ') || 'no entities'}\n`);
      return 0;
    }
    const { state } = await store.load(core.state.validatePlugin);
    const doc = exportState(state);
    const text = file?.endsWith('.json') ? JSON.stringify(doc, null, 2) + '\n' : YAML.stringify(doc);
    if (file) {
      await writeFile(file, text);
      io.stderr(`exported to ${file}\n`);
    } else io.stdout(text);
    return 0;
  } finally {
    await core.close();
  }
}
