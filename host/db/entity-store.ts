/**
 * Entities in the database: loading them into a State, and writing what an
 * Admin API change did (the difference between the state before and after,
 * cascades included) in one transaction. The in-memory State keeps Kong's
 * integrity rules; the database enforces uniqueness and foreign keys again,
 * so a write that slipped past (another writer) is refused at commit.
 */
import { COLLECTIONS, type Collection, type EntityRec, type Rec } from '../gateway/entities.js';
import { foreignViolation, GatewayError, State, uniqueViolation, type PluginValidator } from '../gateway/state.js';
import { ensureSchema } from './migrate.js';
import { resolveDatabaseLimits, type DatabaseLimits } from '../limits.js';
import { openDatabase, type SqlClient, type SqlRunner } from './sql.js';

const refId = (field: string) => (e: Rec) => ((e[field] as Rec | null | undefined)?.id as string | undefined) ?? null;
const text = (field: string) => (e: Rec) => (e[field] === undefined || e[field] === null ? null : String(e[field]));

/** the typed columns of each table, read from the entity */
const COLUMNS: Record<Collection, Record<string, (e: Rec) => unknown>> = {
  services: { name: text('name') },
  routes: { name: text('name'), service_id: refId('service') },
  consumers: { username: text('username'), custom_id: text('custom_id') },
  consumer_groups: { name: text('name') },
  keyauth_credentials: { key: text('key'), consumer_id: refId('consumer') },
  upstreams: { name: text('name') },
  targets: { target: text('target'), upstream_id: refId('upstream') },
  vaults: { prefix: text('prefix') },
  partials: { name: text('name') },
  plugins: {
    name: text('name'),
    service_id: refId('service'),
    route_id: refId('route'),
    consumer_id: refId('consumer'),
    consumer_group_id: refId('consumer_group'),
  },
};

function insertSql(coll: Collection): string {
  const cols = ['id', 'tags', 'created_at', 'updated_at', 'entity', ...Object.keys(COLUMNS[coll])];
  return `INSERT INTO ${coll} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
}
const INSERT = Object.fromEntries(COLLECTIONS.map((c) => [c, insertSql(c)])) as Record<Collection, string>;

/**
 * A changed row is updated, never re-created (a row another gateway deleted
 * stays deleted), and only when the stored one is not newer: last writer by
 * `updated_at` wins, a write based on an older row is refused.
 */
function updateSql(coll: Collection): string {
  const cols = ['id', 'tags', 'created_at', 'updated_at', 'entity', ...Object.keys(COLUMNS[coll])];
  const set = cols.slice(1).map((c, i) => `${c} = $${i + 2}`);
  return `UPDATE ${coll} SET ${set.join(', ')} WHERE id = $1 AND coalesce(updated_at, 0) <= coalesce($4, 0) RETURNING id`;
}
const UPDATE = Object.fromEntries(COLLECTIONS.map((c) => [c, updateSql(c)])) as Record<Collection, string>;

/** the NOTIFY channel a committed change is announced on (payload: the new configuration version) */
export const CONFIG_CHANNEL = 'datakit_config';

function rowParams(coll: Collection, e: EntityRec): unknown[] {
  const tags = Array.isArray(e.tags) ? e.tags : null;
  const num = (v: unknown) => (typeof v === 'number' ? Math.trunc(v) : null);
  return [e.id, tags, num(e.created_at) ?? 0, num(e.updated_at), JSON.stringify(e), ...Object.values(COLUMNS[coll]).map((f) => f(e))];
}

/**
 * Kong's answers for what the database refused: a unique violation ("Key (name)=(x)
 * already exists.") is a 409, a reference to a row gone meanwhile (another
 * gateway deleted it: "Key (service_id)=(...) is not present in table "services".") a 400.
 */
function translate(e: unknown, limits: DatabaseLimits): unknown {
  const err = e as { code?: string; detail?: string };
  // statement_timeout: the transaction was rolled back
  if (err?.code === '57014') return new StatementTimeout(limits.statement_timeout_ms);
  if (err?.code === '23503') {
    const m = /^Key \((\w+)_id\)=\(([^)]*)\) is not present in table "(\w+)"/.exec(err.detail ?? '');
    if (m) return foreignViolation(m[1], m[3], { id: m[2] });
  }
  if (err?.code !== '23505') return e;
  const m = /^Key \((.+)\)=\((.*)\) already exists\.?$/.exec(err.detail ?? '');
  if (!m) return uniqueViolation({});
  const names = m[1].split(', ');
  const values = m[2].split(', ');
  if (names.length !== values.length) return uniqueViolation({ [names.join(',')]: m[2] });
  return uniqueViolation(Object.fromEntries(names.map((n, i) => [n.replace(/_id$/, ''), n.endsWith('_id') ? { id: values[i] } : values[i]])));
}

/** A change the server cancelled at statement_timeout_ms (503: nothing was written). */
export class StatementTimeout extends GatewayError {
  constructor(ms: number) {
    super(503, { message: `the database did not complete the change within ${ms} ms (statement_timeout): nothing was written` });
  }
}

async function readVersion(r: SqlRunner): Promise<number> {
  const v = await r.query<{ version: string | number }>('SELECT version FROM config_version');
  return Number(v.rows[0]?.version ?? 0);
}

export class EntityStore {
  private constructor(
    readonly db: SqlClient,
    /** the bounds on a server connection (host/limits.ts) */
    readonly limits: DatabaseLimits,
  ) {}

  /** Opens the database; a new one is bootstrapped, one with pending migrations is refused. */
  static async open(location: string, opts: { autoBootstrap?: boolean; limits?: Partial<DatabaseLimits> } = {}): Promise<EntityStore> {
    const limits = resolveDatabaseLimits(opts.limits);
    const db = await openDatabase(location, limits);
    try {
      await ensureSchema(db, opts.autoBootstrap !== false);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new EntityStore(db, limits);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Every entity, in the order created, and the configuration version they are at: one consistent read. */
  async load(validatePlugin: PluginValidator): Promise<{ state: State; version: number }> {
    return this.db.transaction(async (tx) => {
      // every table as of one moment, even while other gateways write
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const version = await readVersion(tx);
      const state = new State(validatePlugin);
      for (const coll of COLLECTIONS) {
        const rows = await tx.query<{ entity: EntityRec }>(`SELECT entity FROM ${coll} ORDER BY seq`);
        const m = state.map(coll);
        for (const r of rows.rows) m.set(r.entity.id, r.entity);
      }
      const members = await tx.query<{ g: string; c: string }>(
        'SELECT consumer_group_id AS g, consumer_id AS c FROM consumer_group_members ORDER BY seq',
      );
      for (const r of members.rows) state.memberships.add(`${r.g}|${r.c}`);
      const settings = await tx.query<{ value: Rec }>(`SELECT value FROM gateway_settings WHERE key = 'document'`);
      if (settings.rows[0]) state.settings = settings.rows[0].value;
      return { state, version };
    });
  }

  /** The configuration version the database is at (bumped by every committed change). */
  version(): Promise<number> {
    return readVersion(this.db);
  }

  /**
   * Writes what changed from `prev` to `next` (only the rows the change touched),
   * in one transaction; resolves once committed, with the new configuration version.
   */
  applyChanges(prev: State, next: State): Promise<number> {
    return this.write(async (tx) => {
      for (const coll of [...COLLECTIONS].reverse()) {
        const gone = [...prev.map(coll).keys()].filter((id) => !next.map(coll).has(id));
        if (gone.length) await tx.query(`DELETE FROM ${coll} WHERE id = ANY($1::uuid[])`, [gone]);
      }
      for (const coll of COLLECTIONS) {
        const before = prev.map(coll);
        for (const [id, e] of next.map(coll)) {
          const old = before.get(id);
          if (old === e || (old && JSON.stringify(old) === JSON.stringify(e))) continue;
          if (!old) await tx.query(INSERT[coll], rowParams(coll, e));
          else if (!(await tx.query(UPDATE[coll], rowParams(coll, e))).rows.length) await this.refuseStaleUpdate(tx, coll, id);
        }
      }
      for (const k of prev.memberships) if (!next.memberships.has(k)) await this.removeMember(tx, k);
      for (const k of next.memberships) if (!prev.memberships.has(k)) await this.addMember(tx, k);
      if (JSON.stringify(prev.settings) !== JSON.stringify(next.settings)) await this.writeSettings(tx, next.settings);
    });
  }

  /** Replaces every entity with `state`'s (db_import, POST /config), in one transaction. */
  replaceAll(state: State): Promise<number> {
    return this.write(async (tx) => {
      await tx.exec(`DELETE FROM consumer_group_members; ${[...COLLECTIONS].reverse().map((c) => `DELETE FROM ${c};`).join(' ')}`);
      for (const coll of COLLECTIONS) for (const e of state.map(coll).values()) await tx.query(INSERT[coll], rowParams(coll, e));
      for (const k of state.memberships) await this.addMember(tx, k);
      await this.writeSettings(tx, state.settings);
    });
  }

  /** How many entities of each kind (for logs and `db_import`'s summary). */
  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const coll of COLLECTIONS) {
      const r = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${coll}`);
      out[coll] = r.rows[0].n;
    }
    return out;
  }

  /**
   * One transaction: the version row is bumped first (its lock makes writers
   * take turns, across gateways too), then `fn` writes, then NOTIFY announces
   * the new version, delivered to listeners only if the transaction commits.
   */
  private async write(fn: (tx: SqlRunner) => Promise<void>): Promise<number> {
    try {
      return await this.db.transaction(async (tx) => {
        const bumped = await tx.query<{ version: string }>('UPDATE config_version SET version = version + 1 RETURNING version');
        const version = Number(bumped.rows[0].version);
        await fn(tx);
        await tx.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, String(version)]);
        return version;
      });
    } catch (e) {
      throw translate(e, this.limits);
    }
  }

  /** A changed row the database no longer has (deleted) or has newer (updated_at) than the change was based on. */
  private async refuseStaleUpdate(tx: SqlRunner, coll: Collection, id: string): Promise<never> {
    const row = await tx.query(`SELECT 1 FROM ${coll} WHERE id = $1`, [id]);
    if (!row.rows.length) throw new GatewayError(404, { message: 'Not found' });
    throw new GatewayError(409, { message: `the ${coll} entity ${id} was changed by another gateway meanwhile (a newer updated_at); nothing was written: read it again and retry` });
  }

  private addMember(tx: SqlRunner, key: string) {
    const [g, c] = key.split('|');
    return tx.query('INSERT INTO consumer_group_members (consumer_group_id, consumer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [g, c]);
  }

  private removeMember(tx: SqlRunner, key: string) {
    const [g, c] = key.split('|');
    return tx.query('DELETE FROM consumer_group_members WHERE consumer_group_id = $1 AND consumer_id = $2', [g, c]);
  }

  private writeSettings(tx: SqlRunner, settings: Rec) {
    return tx.query(
      `INSERT INTO gateway_settings (key, value) VALUES ('document', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [JSON.stringify(settings ?? {})],
    );
  }
}
