/**
 * /metrics in database mode: whether the database answers, the
 * configuration version served, reloads by what found the newer version,
 * and refused writes by reason; a scrape promtool accepts.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, gateway } from './helpers.js';
import { sql as sqlOn, startPostgres, type PostgresHandle } from '../helpers/postgres.js';
import type { GatewayOptions, RunningGateway } from '../../host/gateway/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** every sample of a scrape, `name{labels}` -> value */
async function samples(gw: RunningGateway): Promise<Map<string, number>> {
  const text = (await call(gw.adminUrl, '/metrics')).text;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const reloads = async (gw: RunningGateway) => {
  const s = await samples(gw);
  return Object.fromEntries(['notify', 'poll', 'start', 'reconnect', 'write'].map((k) => [k, s.get(`datakit_config_reloads_total{source="${k}"}`)]));
};

describe('database metrics', () => {
  let server: PostgresHandle;
  const open: RunningGateway[] = [];
  const start = async (extra: GatewayOptions = {}) => {
    const gw = await gateway(undefined as never, { config: undefined, database: server.url, dbUpdateFrequency: 60, ...extra });
    open.push(gw);
    return gw;
  };
  const sql = (text: string) => sqlOn(server.url, text);

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const gw of open) await gw.close();
    await server.stop();
  });

  it('a new gateway: reachable, at the database version, every reload source and refusal reason at 0', async () => {
    const a = await start();
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'first' } })).status).toBe(201);
    const s = await samples(a);
    const [{ version }] = await sql('SELECT version FROM config_version');
    expect(s.get('datakit_database_reachable')).toBe(1);
    expect(s.get('datakit_database_config_version')).toBe(Number(version));
    expect(await reloads(a)).toEqual({ notify: 0, poll: 0, start: 0, reconnect: 0, write: 0 });
    for (const r of ['unreachable', 'timeout', 'unservable_configuration']) expect(s.get(`datakit_database_write_refusals_total{reason="${r}"}`)).toBe(0);
  }, 30_000);

  it('counts each reload under what found the newer version: notify, poll, write', async () => {
    const a = await start();
    const b = await start({ dbUpdateFrequency: 0.3 });
    // a change on A is announced: B reloads on the NOTIFY
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'heard' } })).status).toBe(201);
    await within(2000, async () => (await call(b.adminUrl, '/consumers/heard')).status === 200);
    expect(await reloads(b)).toMatchObject({ notify: 1, poll: 0, write: 0 });
    const [{ version }] = await sql('SELECT version FROM config_version');
    expect((await samples(b)).get('datakit_database_config_version')).toBe(Number(version));

    // a version bumped by hand, without NOTIFY: B's poll finds it
    await sql('UPDATE config_version SET version = version + 1');
    await within(2000, async () => (await reloads(b)).poll === 1);
    expect((await reloads(b)).notify).toBe(1);

    // B stops hearing: its next write reloads first
    b.sync!.requestReload = () => undefined;
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'unheard' } })).status).toBe(201);
    expect((await call(b.adminUrl, '/consumers', { method: 'POST', json: { username: 'after-unheard' } })).status).toBe(201);
    expect((await reloads(b)).write).toBe(1);
    // A (polling every 60 s) found the hand-made bump at its own write, then heard B's change
    await within(2000, async () => (await reloads(a)).notify === 1);
    expect(await reloads(a)).toMatchObject({ notify: 1, poll: 0, write: 1 });
  }, 30_000);

  it('one node cut off from the database: reachable 0 and its writes counted as refused; back, it reloads what it missed (source reconnect)', async () => {
    await sql('CREATE ROLE cut_node LOGIN SUPERUSER');
    const a = await start();
    const b = await start({ database: server.url.replace('postgres://postgres@', 'postgres://cut_node@') });
    await sql('ALTER ROLE cut_node NOLOGIN');
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'cut_node'`);
    await within(3000, async () => (await samples(b)).get('datakit_database_reachable') === 0);
    expect((await call(b.adminUrl, '/consumers', { method: 'POST', json: { username: 'refused' } })).status).toBe(503);
    expect((await samples(b)).get('datakit_database_write_refusals_total{reason="unreachable"}')).toBe(1);
    expect((await samples(a)).get('datakit_database_reachable')).toBe(1);
    // a change B cannot hear of
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'missed' } })).status).toBe(201);
    await sql('ALTER ROLE cut_node LOGIN');
    await within(5000, async () => (await call(b.adminUrl, '/consumers/missed')).status === 200);
    const s = await samples(b);
    expect(s.get('datakit_database_reachable')).toBe(1);
    expect(s.get('datakit_config_reloads_total{source="reconnect"}')).toBe(1);
    expect(s.get('datakit_database_config_version')).toBe((await samples(a)).get('datakit_database_config_version'));
  }, 30_000);

  it('a database-mode scrape passes promtool', async () => {
    const a = await start();
    const text = (await call(a.adminUrl, '/metrics')).text;
    for (const g of ['datakit_database_reachable', 'datakit_database_config_version']) {
      expect(text).toMatch(new RegExp(`^# HELP ${g} \\S.*\\n# TYPE ${g} gauge\\n${g} \\d+$`, 'm'));
    }
    expect(text).toMatch(/^# TYPE datakit_config_reloads_total counter$/m);
    expect(text).toMatch(/^# TYPE datakit_database_write_refusals_total counter$/m);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    if (r.error) return; // promtool not installed: the format itself is checked in metrics.test.ts
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
  }, 30_000);

  it('DB-less: no database gauges', async () => {
    const gw = await gateway({ _format_version: '3.0' });
    open.push(gw);
    const s = await samples(gw);
    expect(s.has('datakit_database_reachable')).toBe(false);
    expect(s.has('datakit_database_config_version')).toBe(false);
    expect([...s.keys()].some((k) => k.startsWith('datakit_config_reloads_total'))).toBe(false);
  }, 30_000);
});
