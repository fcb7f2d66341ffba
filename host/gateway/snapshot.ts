/**
 * A compiled, immutable view of the configuration used by the proxy: router,
 * services, upstream balancers, per-route plugin chains and consumer lookups.
 * A new snapshot is built for every change and swapped atomically; requests in
 * flight keep the snapshot they started with.
 */
import type { EntityRec, Rec } from './entities.js';
import { Router } from './router.js';
import { GatewayError, type State } from './state.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Entity, PluginDef, PluginEnv, PluginInstance } from '../plugins/types.js';
import type { KeyAuthLookup } from '../plugins/key-auth.js';
import { accessOrder, OrderingCycle, orderingSpec, type OrderingSpec } from './plugin-ordering.js';

export interface Target {
  host: string;
  port: number;
  weight: number;
  current: number;
}

/** Smooth weighted round robin (as nginx). */
export class Balancer {
  readonly targets: Target[];
  private readonly total: number;
  constructor(
    readonly name: string,
    targets: Array<{ host: string; port: number; weight: number }>,
  ) {
    this.targets = targets.filter((t) => t.weight > 0).map((t) => ({ ...t, current: 0 }));
    this.total = this.targets.reduce((a, t) => a + t.weight, 0);
  }
  next(): Target | undefined {
    const ts = this.targets;
    if (ts.length === 0) return undefined;
    if (ts.length === 1) return ts[0];
    let best = ts[0];
    for (const t of ts) {
      t.current += t.weight;
      if (t.current > best.current) best = t;
    }
    best.current -= this.total;
    return best;
  }
}

export interface CompiledService {
  entity: EntityRec;
  protocol: string;
  host: string;
  port: number;
  path: string | null;
  connectTimeout: number;
  readTimeout: number;
  writeTimeout: number;
  retries: number;
  upstream?: Balancer;
}

export interface PluginCandidate {
  entity: EntityRec;
  def: PluginDef;
  instance: PluginInstance;
  rank: number;
  consumerId?: string;
  groupId?: string;
}

export interface PluginSlot {
  name: string;
  priority: number;
  candidates: PluginCandidate[];
  /** the dynamic ordering of its route-level instance (consumer-scoped instances cannot have one) */
  ordering?: OrderingSpec;
}

export interface RouteTarget {
  route: EntityRec;
  label: string;
  service: CompiledService | null;
  stripPath: boolean;
  preserveHost: boolean;
  /** access-phase order: priority order adjusted by the plugins' `ordering` */
  chain: PluginSlot[];
  /** whether `ordering` changed the chain (the other phases then sort by priority again) */
  reordered: boolean;
}

function parseTarget(t: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(t);
  if (!m) return { host: t, port: 8000 };
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Kong's precedence (lower is more specific). */
function rankOf(p: EntityRec): number {
  const c = !!p.consumer;
  const g = !!p.consumer_group;
  const r = !!p.route;
  const s = !!p.service;
  if (c && r && s) return 1;
  if (g && s && r) return 2;
  if (c && r) return 3;
  if (c && s) return 4;
  if (g && r) return 5;
  if (g && s) return 6;
  if (r && s) return 7;
  if (c) return 8;
  if (g) return 9;
  if (r) return 10;
  if (s) return 11;
  return 12;
}

export function instanceKey(p: EntityRec): string {
  // the instance name is in the key: it labels the instance's metric series
  return `${p.id}|${String(p.instance_name ?? '')}|${JSON.stringify(p.config)}`;
}

export class Snapshot implements KeyAuthLookup {
  readonly router: Router<RouteTarget>;
  readonly routes: RouteTarget[] = [];
  readonly upstreams = new Map<string, Balancer>();
  readonly instances = new Map<string, PluginInstance>();
  private readonly keys = new Map<string, { credential: Entity; consumer: Entity }>();
  private readonly consumersById = new Map<string, EntityRec>();
  private readonly consumersByName = new Map<string, EntityRec>();
  private readonly consumersByCustom = new Map<string, EntityRec>();
  private readonly groupsByConsumer = new Map<string, EntityRec[]>();
  readonly pluginCount: number;

  private constructor(
    readonly state: State,
    registry: PluginRegistry,
    env: PluginEnv,
    previous: Map<string, PluginInstance> | undefined,
  ) {
    for (const u of state.upstreams.values()) {
      const targets = [...state.targets.values()]
        .filter((t) => (t.upstream as Rec).id === u.id)
        .map((t) => ({ ...parseTarget(String(t.target)), weight: Number(t.weight) }));
      this.upstreams.set(String(u.name), new Balancer(String(u.name), targets));
    }
    const services = new Map<string, CompiledService>();
    for (const s of state.services.values()) {
      services.set(s.id, {
        entity: s,
        protocol: String(s.protocol),
        host: String(s.host),
        port: Number(s.port),
        path: (s.path as string | null) ?? null,
        connectTimeout: Number(s.connect_timeout),
        readTimeout: Number(s.read_timeout),
        writeTimeout: Number(s.write_timeout),
        retries: Number(s.retries),
        upstream: this.upstreams.get(String(s.host)),
      });
    }
    for (const c of state.consumers.values()) {
      this.consumersById.set(c.id, c);
      if (c.username) this.consumersByName.set(String(c.username), c);
      if (c.custom_id) this.consumersByCustom.set(String(c.custom_id), c);
      this.groupsByConsumer.set(c.id, state.groupsOf(c.id).sort((a, b) => String(a.name).localeCompare(String(b.name))));
    }
    for (const k of state.keyauth_credentials.values()) {
      const consumer = this.consumersById.get((k.consumer as Rec).id as string);
      if (consumer) this.keys.set(String(k.key), { credential: k, consumer });
    }

    // plugin instances (reused when id and config are unchanged)
    const enabled: PluginCandidate[] = [];
    for (const stored of state.plugins.values()) {
      if (stored.enabled === false) continue;
      // the linked partials' settings in place: the instance (and its key) change with them
      const p = state.withPartials(stored) as EntityRec;
      const def = registry.get(String(p.name));
      if (!def) throw new GatewayError(400, { code: 2, name: 'schema violation', message: `plugin '${String(p.name)}' not enabled`, fields: { name: `plugin '${String(p.name)}' not enabled` } });
      if (p.service && !state.services.has((p.service as Rec).id as string)) continue;
      const key = instanceKey(p);
      let instance = previous?.get(key);
      if (!instance) {
        try {
          instance = def.create((p.config ?? {}) as Record<string, unknown>, env, p);
        } catch (e) {
          throw new GatewayError(400, {
            code: 2,
            name: 'schema violation',
            message: `schema violation (config: ${(e as Error).message})`,
            fields: { config: (e as Error).message },
          });
        }
      }
      this.instances.set(key, instance);
      enabled.push({
        entity: p,
        def,
        instance,
        rank: rankOf(p),
        consumerId: (p.consumer as Rec | null)?.id as string | undefined,
        groupId: (p.consumer_group as Rec | null)?.id as string | undefined,
      });
    }
    this.pluginCount = enabled.length;

    const list: Array<{ route: EntityRec; target: RouteTarget }> = [];
    const routes = [...state.routes.values()].sort((a, b) => Number(a.created_at) - Number(b.created_at));
    for (const r of routes) {
      const svcId = (r.service as Rec | null)?.id as string | undefined;
      const service = svcId ? services.get(svcId) ?? null : null;
      if (service && service.entity.enabled === false) continue;
      const slots = new Map<string, PluginSlot>();
      for (const c of enabled) {
        const p = c.entity;
        if (p.route && (p.route as Rec).id !== r.id) continue;
        if (p.service && (p.service as Rec).id !== svcId) continue;
        let slot = slots.get(c.def.name);
        if (!slot) slots.set(c.def.name, (slot = { name: c.def.name, priority: c.def.priority, candidates: [] }));
        slot.candidates.push(c);
      }
      // a chain made only of consumer-scoped plugins can never run without an auth plugin
      const hasUnscoped = [...slots.values()].some((s) => s.candidates.some((c) => !c.consumerId && !c.groupId));
      const chain = hasUnscoped ? [...slots.values()] : [];
      for (const s of chain) {
        s.candidates.sort((a, b) => a.rank - b.rank);
        s.ordering = orderingSpec(s.candidates.find((c) => !c.consumerId && !c.groupId)?.entity.ordering);
      }
      chain.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
      let accessChain = chain;
      try {
        accessChain = accessOrder(chain);
      } catch (e) {
        if (!(e instanceof OrderingCycle)) throw e;
        const culprit = chain.find((s) => s.ordering && e.cycle.includes(s.name));
        const entity = culprit?.candidates.find((c) => !c.consumerId && !c.groupId)?.entity;
        throw new OrderingCycleError(e.message, entity?.id);
      }
      const target: RouteTarget = {
        route: r,
        label: String(r.name ?? r.id),
        service,
        stripPath: r.strip_path !== false,
        preserveHost: r.preserve_host === true,
        chain: accessChain,
        reordered: accessChain.some((slot, i) => slot !== chain[i]),
      };
      this.routes.push(target);
      list.push({ route: r, target });
    }
    this.router = new Router(list);
  }

  static build(state: State, registry: PluginRegistry, env: PluginEnv, previous?: Map<string, PluginInstance>): Snapshot {
    return new Snapshot(state, registry, env, previous);
  }

  byKey(key: string): { credential: Entity; consumer: Entity } | undefined {
    return this.keys.get(key);
  }

  findConsumer(q: { id?: string; username?: string; custom_id?: string }): EntityRec | undefined {
    if (q.id !== undefined) return this.consumersById.get(q.id) ?? (q.username === undefined ? this.consumersByName.get(q.id) : undefined);
    if (q.username !== undefined) return this.consumersByName.get(q.username);
    if (q.custom_id !== undefined) return this.consumersByCustom.get(q.custom_id);
    return undefined;
  }

  groupsOf(consumerId: string): EntityRec[] {
    return this.groupsByConsumer.get(consumerId) ?? [];
  }
}

/** `ordering` constraints that contradict each other on some route (a configuration error). */
export class OrderingCycleError extends GatewayError {
  constructor(
    readonly reason: string,
    /** the plugin whose `ordering` is part of the cycle */
    readonly pluginId: string | undefined,
  ) {
    super(400, { code: 2, name: 'schema violation', message: `schema violation (ordering: ${reason})`, fields: { ordering: reason } });
  }
}

/** Picks the most specific instance of one plugin for the current consumer. */
export function pickCandidate(slot: PluginSlot, consumerId: string | undefined, groups: EntityRec[]): PluginCandidate | undefined {
  for (const c of slot.candidates) {
    if (c.consumerId !== undefined) {
      if (c.consumerId === consumerId) return c;
      continue;
    }
    if (c.groupId !== undefined) {
      if (groups.some((g) => g.id === c.groupId)) return c;
      continue;
    }
    return c;
  }
  return undefined;
}
