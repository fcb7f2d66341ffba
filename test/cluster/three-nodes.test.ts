/**
 * Three `datakit serve` processes on one real PostgreSQL server, as behind a
 * load balancer: a change through any node's Admin API is served by the
 * others within a second; losing the database keeps every proxy serving the
 * last configuration while Admin writes answer 503; the database coming back
 * brings writes and convergence back; a node cut off alone catches up on
 * what it missed; a restarted node finds everything.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startUpstream, type Upstream } from '../gateway/helpers.js';
import { buildHost, exited, freePort, runCli, serve, waitReady } from '../helpers/cli.js';
import { sql as sqlOn, startPostgres, type PostgresHandle } from '../helpers/postgres.js';

interface Node {
  name: string;
  proxy: string;
  admin: string;
  child: ChildProcess;
  output: () => string;
}

let db: PostgresHandle;
/** node 3 connects as its own role, so that it alone can be cut off from the database */
const NODE3_ROLE = 'node3';
let upstream: Upstream;
const nodes: Node[] = [];

async function startNode(name: string): Promise<Node> {
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const url = name === 'node3' ? db.url.replace('postgres://postgres@', `postgres://${NODE3_ROLE}@`) : db.url;
  const { child, output } = serve([
    '--database', url,
    // propagation and catch-up below are LISTEN/NOTIFY's, never the fallback poll's
    '--db-update-frequency', '60',
    '--proxy-listen', `127.0.0.1:${proxyPort}`,
    '--admin-listen', `127.0.0.1:${adminPort}`,
    '--log-level', 'warn',
    '--no-access-log',
  ]);
  const node = { name, proxy: `http://127.0.0.1:${proxyPort}`, admin: `http://127.0.0.1:${adminPort}`, child, output };
  try {
    await waitReady(node.admin, child, 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${name}: ${(e as Error).message}\n${output()}`);
  }
  return node;
}

async function stopNode(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const gone = exited(node.child);
  node.child.kill(signal);
  await gone;
}

/** One statement on the database as its superuser. */
async function sql(text: string): Promise<void> {
  await sqlOn(db.url, text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls every node of `on` (every ~5 ms) until `check` holds for each;
 * resolves with the longest delay in ms. Fails after `deadlineMs`.
 */
async function servedBy(on: Node[], check: (node: Node) => Promise<boolean>, deadlineMs = 5000): Promise<number> {
  const started = performance.now();
  const delays = await Promise.all(
    on.map(async (node) => {
      for (;;) {
        if (await check(node).catch(() => false)) return performance.now() - started;
        if (performance.now() - started > deadlineMs) throw new Error(`${node.name} did not converge within ${deadlineMs} ms`);
        await sleep(5);
      }
    }),
  );
  return Math.max(...delays);
}

const proxied = (path: string, test: (r: Awaited<ReturnType<typeof call>>) => boolean) => async (node: Node) => test(await call(node.proxy, path));

const exitFlow = (v: number) => ({
  nodes: [
    { name: 'V', type: 'static', values: { from: 'flow', v } },
    { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'V' } },
  ],
});

beforeAll(async () => {
  buildHost();
  db = await startPostgres();
  upstream = await startUpstream('cluster-up');
  const boot = await runCli(['migrations', 'bootstrap', '--database', db.url]);
  expect(boot.code, boot.stderr).toBe(0);
  await sql(`CREATE ROLE ${NODE3_ROLE} LOGIN SUPERUSER`);
  for (const name of ['node1', 'node2', 'node3']) nodes.push(await startNode(name));
}, 150_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => stopNode(n, 'SIGKILL')));
  await upstream?.close();
  await db?.stop();
});

describe('three gateways on one PostgreSQL server', () => {
  let pluginId: string;

  it('a service, a route and a datakit flow written on node 1 are served by nodes 2 and 3 within 1 s; so are a change and a delete', async () => {
    const [n1, n2, n3] = nodes;
    const others = [n2, n3];
    let r = await call(n1.admin, '/services', { method: 'POST', json: { name: 'orders', url: upstream.url } });
    expect(r.status, r.text).toBe(201);
    r = await call(n1.admin, '/services/orders/routes', { method: 'POST', json: { name: 'orders', paths: ['/orders'] } });
    expect(r.status, r.text).toBe(201);
    const routeDelay = await servedBy(others, proxied('/orders/1', (x) => x.status === 200 && x.headers['x-upstream'] === 'cluster-up'));
    expect(routeDelay).toBeLessThan(1000);

    r = await call(n1.admin, '/routes/orders/plugins', { method: 'POST', json: { name: 'datakit', config: exitFlow(1) } });
    expect(r.status, r.text).toBe(201);
    pluginId = r.json.id;
    const pluginDelay = await servedBy(others, proxied('/orders/1', (x) => x.status === 200 && x.text === '{"from":"flow","v":1}'));
    expect(pluginDelay).toBeLessThan(1000);

    r = await call(n1.admin, `/plugins/${pluginId}`, { method: 'PATCH', json: { config: exitFlow(2) } });
    expect(r.status, r.text).toBe(200);
    const changeDelay = await servedBy(others, proxied('/orders/1', (x) => x.text === '{"from":"flow","v":2}'));
    expect(changeDelay).toBeLessThan(1000);

    r = await call(n1.admin, `/plugins/${pluginId}`, { method: 'DELETE' });
    expect(r.status).toBe(204);
    const deleteDelay = await servedBy(others, proxied('/orders/1', (x) => x.status === 200 && x.headers['x-upstream'] === 'cluster-up'));
    expect(deleteDelay).toBeLessThan(1000);

    // a write on another node reaches node 1 the same way
    r = await call(n3.admin, '/services/orders/routes', { method: 'POST', json: { name: 'gone-soon', paths: ['/gone-soon'] } });
    expect(r.status, r.text).toBe(201);
    expect(await servedBy([n1, n2], proxied('/gone-soon', (x) => x.status === 200))).toBeLessThan(1000);
    r = await call(n2.admin, '/routes/gone-soon', { method: 'DELETE' });
    expect(r.status).toBe(204);
    expect(await servedBy([n1, n3], proxied('/gone-soon', (x) => x.status === 404))).toBeLessThan(1000);
  });

  it('the database killed under steady traffic: every proxy keeps serving, Admin writes answer 503, /status says unreachable; back: writes work and all nodes converge', async () => {
    const [n1, n2, n3] = nodes;
    let r = await call(n1.admin, '/routes/orders/plugins', { method: 'POST', json: { name: 'datakit', config: exitFlow(3) } });
    expect(r.status, r.text).toBe(201);
    await servedBy(nodes, proxied('/orders/1', (x) => x.text === '{"from":"flow","v":3}'));

    // a bounded request loop on each proxy: a route through the upstream and a route answered by the flow
    let running = true;
    const failures: string[] = [];
    let requests = 0;
    const loops = nodes.map(async (node) => {
      while (running) {
        for (const [path, expected] of [['/orders/1', '{"from":"flow","v":3}'], ['/gone-soon', undefined]] as const) {
          const res = await call(node.proxy, path).catch((e: Error) => ({ status: 0, text: e.message }));
          requests++;
          const ok = expected ? res.status === 200 && res.text === expected : res.status === 404;
          if (!ok) failures.push(`${node.name} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
        }
        await sleep(10);
      }
    });

    await sleep(200);
    db.kill();
    const unreachable = (node: Node) => call(node.admin, '/status').then((s) => s.json?.database?.reachable === false);
    await servedBy(nodes, unreachable, 15_000);
    for (const node of nodes) {
      const w = await call(node.admin, '/consumers', { method: 'POST', json: { username: `during-outage-${node.name}` } });
      expect(w.status, `${node.name}: ${w.text}`).toBe(503);
    }
    // traffic keeps flowing with the database gone
    const before = requests;
    await sleep(500);
    expect(requests - before).toBeGreaterThan(10);

    await db.restart();
    const reachable = (node: Node) => call(node.admin, '/status').then((s) => s.status === 200 && s.json?.database?.reachable === true);
    await servedBy(nodes, reachable, 15_000);
    r = await call(n2.admin, `/routes/orders/plugins`, { method: 'GET' });
    const flow = (r.json.data as { id: string; name: string }[]).find((p) => p.name === 'datakit')!;
    r = await call(n2.admin, `/plugins/${flow.id}`, { method: 'PATCH', json: { config: exitFlow(4) } });
    expect(r.status, r.text).toBe(200);
    expect(await servedBy([n1, n3], proxied('/orders/1', (x) => x.text === '{"from":"flow","v":4}'))).toBeLessThan(1000);

    running = false;
    await Promise.all(loops);
    // requests in flight when v4 landed may answer v4: only other answers are failures
    const real = failures.filter((f) => !f.includes('"v":4'));
    expect(real).toEqual([]);
    expect(requests).toBeGreaterThan(100);

    // nothing written during the outage exists anywhere
    for (const node of nodes) expect((await call(node.admin, '/consumers/during-outage-node1')).status).toBe(404);
  }, 60_000);

  it('one node cut off from the database keeps serving and refuses writes while the others go on; let back in, it catches up on the change it missed', async () => {
    const [n1, n2, n3] = nodes;
    await sql(`ALTER ROLE ${NODE3_ROLE} NOLOGIN`);
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${NODE3_ROLE}'`);
    await servedBy([n3], (node) => call(node.admin, '/status').then((s) => s.json?.database?.reachable === false), 15_000);

    let r = await call(n1.admin, '/services/orders/routes', { method: 'POST', json: { name: 'missed', paths: ['/missed'] } });
    expect(r.status, r.text).toBe(201);
    expect(await servedBy([n2], proxied('/missed', (x) => x.status === 200))).toBeLessThan(1000);
    expect((await call(n3.proxy, '/missed')).status).toBe(404);
    expect((await call(n3.proxy, '/orders/1')).text).toBe('{"from":"flow","v":4}');
    r = await call(n3.admin, '/consumers', { method: 'POST', json: { username: 'cut-off' } });
    expect(r.status, r.text).toBe(503);
    expect((await call(n1.admin, '/status')).json.database.reachable).toBe(true);

    // the NOTIFY for /missed went out while node 3 was not listening: it reloads when it reconnects (at most 2 s apart), not at the 60 s poll
    await sql(`ALTER ROLE ${NODE3_ROLE} LOGIN`);
    expect(await servedBy([n3], proxied('/missed', (x) => x.status === 200), 10_000)).toBeLessThan(5000);
    expect((await call(n3.admin, '/status')).json.database.reachable).toBe(true);
    r = await call(n3.admin, '/routes/missed', { method: 'DELETE' });
    expect(r.status, r.text).toBe(204);
    expect(await servedBy([n1, n2], proxied('/missed', (x) => x.status === 404))).toBeLessThan(1000);
  }, 60_000);

  it('a restarted node finds every entity; an entity written just before a stop is there after the start', async () => {
    const [n1, , n3] = nodes;
    await stopNode(n3);
    const again = await startNode('node3');
    nodes[2] = again;
    const services = (n: Node) => call(n.admin, '/services').then((x) => (x.json.data as { name: string }[]).map((s) => s.name).sort());
    expect(await services(again)).toEqual(await services(n1));
    const flowServed = await call(again.proxy, '/orders/1');
    expect(flowServed.text).toBe('{"from":"flow","v":4}');

    // the regression: write, stop at once, start, the entity is there
    const w = await call(again.admin, '/consumers', { method: 'POST', json: { username: 'written-before-stop' } });
    expect(w.status, w.text).toBe(201);
    await stopNode(again, 'SIGKILL');
    const third = await startNode('node3');
    nodes[2] = third;
    const found = await call(third.admin, '/consumers/written-before-stop');
    expect(found.status, found.text).toBe(200);
    expect(found.json.id).toBe(w.json.id);
  }, 60_000);
});
