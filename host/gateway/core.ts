/**
 * The gateway's configuration core: current State, plugin registry, secrets,
 * datakit engine and the compiled Snapshot the proxy uses. Every change builds
 * a complete new snapshot first and swaps it in only when everything is valid
 * (all or nothing); requests in flight finish on the snapshot they started with.
 */
import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { SecretManager } from '../secrets/manager.js';
import { PluginRegistry, BUNDLED } from '../plugins/registry.js';
import { loadCustomPlugins, PluginLoadError } from '../plugins/custom.js';
import { loadEngine } from '../plugins/datakit.js';
import type { PluginEnv, PluginInstance } from '../plugins/types.js';
import { buildState, documentHash, documentSettings, exportState, parseDocument, stateHash, DeclarativeError, EMPTY_CONFIG_HASH } from './declarative.js';
import type { Rec } from './entities.js';
import { Metrics, RELOAD_SOURCES, WRITE_REFUSAL_REASONS, type ReloadSource, type WriteRefusalReason } from './metrics.js';
import { ProxyEngine } from './proxy.js';
import { OrderingCycleError, Snapshot } from './snapshot.js';
import { checkLimits, resolveLimits, type Limits } from '../limits.js';
import { findDatakitConfigs, type FoundConfig } from '../config.js';
import { prepareTemplates } from '../engine/templates.js';
import { PrecompileError } from '../engine/template-precompile.js';
import { GatewayError, State } from './state.js';
import { StatementTimeout, type EntityStore } from '../db/entity-store.js';
import { DatabaseUnreachable } from '../db/sql.js';

export interface CoreOptions {
  logger: Logger;
  /** gateway settings visible as kong.configuration.* (never secrets) */
  settings?: Rec;
  pluginPaths?: string[];
  maxBodySize?: number;
  accessLog?: boolean;
  proxyPort?: () => number;
  secretTtlMs?: number;
  env?: NodeJS.ProcessEnv;
  /** gateway-wide limits (startGateway's `limits`); a document's `settings.limits` go over them */
  limits?: Partial<Limits>;
  /** database mode: entities live here; a change is committed to it before it is served */
  store?: EntityStore;
}

export class GatewayCore {
  readonly nodeId = randomUUID();
  readonly secrets: SecretManager;
  readonly metrics = new Metrics();
  readonly registry: PluginRegistry;
  readonly proxy: ProxyEngine;
  readonly logger: Logger;
  state: State;
  snapshot!: Snapshot;
  version = 0;
  configHash = EMPTY_CONFIG_HASH;
  env!: PluginEnv;
  onCommit?: (doc: Rec) => void;
  /** database mode: the configuration version (config_version) the served snapshot is at */
  dbVersion = 0;
  /** database mode: false while the server cannot be reached (writes answer 503; host/gateway/db-sync.ts reconnects) */
  databaseReachable = true;
  /** called once when a database operation finds the server gone */
  onDatabaseLost?: (err: Error) => void;
  private instances = new Map<string, PluginInstance>();
  private loadedPluginPaths = new Set<string>();
  private settings: Rec;
  /** the limits in force: defaults, startGateway's, then the document's `settings.limits` */
  limits: Limits;
  /** configuration changes, one at a time: each starts from the state the previous one left */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly opts: CoreOptions) {
    this.logger = opts.logger;
    this.settings = { ...(opts.settings ?? {}) };
    this.limits = resolveLimits(opts.limits);
    this.secrets = new SecretManager({ env: opts.env, ttlMs: opts.secretTtlMs });
    this.registry = new PluginRegistry(() => this.snapshot);
    this.proxy = new ProxyEngine({
      logger: opts.logger,
      metrics: this.metrics,
      // undefined: the limits in force (request_body_bytes), which a document may change
      maxBodySize: opts.maxBodySize,
      limits: () => this.limits,
      accessLog: opts.accessLog ?? true,
      proxyPort: opts.proxyPort ?? (() => 8000),
    });
    this.state = new State(this.registry.validator(() => this.env));
    // a shared server: every series present from the first scrape, at 0
    if (opts.store?.db.shared) {
      for (const s of RELOAD_SOURCES) this.metrics.inc('datakit_config_reloads_total', `source="${s}"`, 0);
      for (const r of WRITE_REFUSAL_REASONS) this.metrics.inc('datakit_database_write_refusals_total', `reason="${r}"`, 0);
    }
  }

  static async create(opts: CoreOptions): Promise<GatewayCore> {
    const core = new GatewayCore(opts);
    const engine = await loadEngine(core.secrets, opts.logger);
    if (engine.error) opts.logger.warn({ err: engine.error }, 'datakit engine not available; datakit plugins will be rejected');
    core.env = {
      secrets: core.secrets,
      logger: opts.logger,
      datakit: engine.datakit,
      datakitError: engine.error,
      metrics: core.metrics,
      nodeId: core.nodeId,
      settings: core.settings,
      limits: core.limits,
      findConsumer: (q) => core.snapshot?.findConsumer(q),
      upstreamExists: (name) => core.snapshot?.upstreams.has(name) ?? false,
    };
    if (opts.pluginPaths?.length) await core.loadPlugins(opts.pluginPaths);
    core.commit(new State(core.state.validatePlugin), EMPTY_CONFIG_HASH);
    return core;
  }

  get engineAvailable(): boolean {
    return !!this.env.datakit;
  }

  /** Loads custom plugin modules (files or directories); throws PluginLoadError. */
  async loadPlugins(paths: string[], base?: string): Promise<void> {
    const abs = paths.map((p) => (isAbsolute(p) || !base ? resolve(p) : resolve(base, p))).filter((p) => !this.loadedPluginPaths.has(p));
    if (!abs.length) return;
    const reserved = new Set([...BUNDLED, ...[...this.registry.defs.values()].filter((d) => d.custom).map((d) => d.name)]);
    const defs = await loadCustomPlugins(abs, reserved);
    for (const d of defs) {
      this.registry.register(d);
      this.logger.info({ plugin: d.name, version: d.version, priority: d.priority }, 'custom plugin loaded');
    }
    for (const p of abs) this.loadedPluginPaths.add(p);
    const names = this.registry.names();
    this.settings.plugins = ['bundled', ...names.filter((n) => !BUNDLED.has(n))];
  }

  get store(): EntityStore | undefined {
    return this.opts.store;
  }

  /** Runs configuration changes one after the other (a database write may be in progress). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Serves the entities stored in the database (at start): no write, their timestamps kept. */
  async loadFromStore(): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    await this.serial(async () => {
      const { state, version } = await store.load(this.state.validatePlugin);
      await this.applyDocumentNow(exportState(state), { loaded: state });
      this.dbVersion = version;
    });
  }

  /**
   * A database shared with other gateways: reloads it when it is at a newer
   * version than the served snapshot (validated and swapped as at start).
   * Resolves true when it did. Runs in turn with the changes. `source`:
   * what found the newer version (datakit_config_reloads_total).
   */
  reloadFromStore(source: ReloadSource): Promise<boolean> {
    return this.serial(() => this.catchUpNow(source));
  }

  private async catchUpNow(source: ReloadSource): Promise<boolean> {
    const store = this.opts.store;
    if (!store?.db.shared) return false;
    try {
      if ((await store.version()) <= this.dbVersion) return false;
      const { state, version } = await store.load(this.state.validatePlugin);
      if (version <= this.dbVersion) return false;
      await this.applyDocumentNow(exportState(state), { loaded: state });
      this.dbVersion = version;
      this.metrics.inc('datakit_config_reloads_total', `source="${source}"`);
      return true;
    } catch (e) {
      throw this.databaseFailure(e);
    }
  }

  /** The server is gone: reported once (until db-sync finds it back). */
  databaseLost(err: Error): void {
    if (!this.databaseReachable) return;
    this.databaseReachable = false;
    this.onDatabaseLost?.(err);
  }

  /** A change answered 503 for a database reason: counted by reason, then thrown by the caller. */
  private refuseWrite(reason: WriteRefusalReason, err: GatewayError): GatewayError {
    this.metrics.inc('datakit_database_write_refusals_total', `reason="${reason}"`);
    return err;
  }

  /** An unreachable database becomes the Admin API's 503; other errors pass. */
  private databaseFailure(e: unknown): unknown {
    if (!(e instanceof DatabaseUnreachable)) return e;
    this.databaseLost(e);
    return databaseUnreachable();
  }

  /**
   * Loads a whole declarative document atomically; the old config keeps serving on error.
   * In database mode the document replaces the stored entities first. `loaded`: the
   * document's entities as the database holds them (start), served as they are.
   */
  applyDocument(input: string | Rec, opts: { baseDir?: string; loaded?: State } = {}): Promise<void> {
    return this.serial(() => this.applyDocumentNow(input, opts));
  }

  private async applyDocumentNow(input: string | Rec, opts: { baseDir?: string; loaded?: State }): Promise<void> {
    const doc = parseDocument(input);
    const settings = documentSettings(doc);
    const paths = Array.isArray(settings.plugins) ? settings.plugins : settings.plugins_dir ? [settings.plugins_dir] : [];
    if (paths.length) {
      if (!paths.every((p) => typeof p === 'string')) throw new DeclarativeError([{ path: 'settings.plugins', message: 'expected an array of paths' }]);
      try {
        await this.loadPlugins(paths as string[], opts.baseDir);
      } catch (e) {
        if (e instanceof PluginLoadError) throw new DeclarativeError([{ path: 'settings.plugins', message: e.message }]);
        throw e;
      }
    }
    // limit errors are reported with the document's other errors, all at once
    const limitIssues = checkLimits(settings.limits).map((m) => ({ path: `settings.${m.slice(0, m.indexOf(':'))}`, message: m.slice(m.indexOf(':') + 2) }));
    const limits = limitIssues.length ? this.limits : resolveLimits(this.opts.limits, settings.limits as Partial<Limits> | undefined);
    await this.prepareFlows(findDatakitConfigs(doc), limits, true);
    const previousLimits = this.limits;
    // plugins are validated and compiled under the limits the document sets
    if (!limitIssues.length) this.limits = this.env.limits = limits;
    try {
      let state: State;
      try {
        state = opts.loaded ?? buildState(doc, this.state.validatePlugin);
      } catch (e) {
        if (e instanceof DeclarativeError && limitIssues.length) throw new DeclarativeError([...limitIssues, ...e.issues]);
        throw e;
      }
      if (limitIssues.length) throw new DeclarativeError(limitIssues);
      try {
        // entities loaded from a database, or written to a shared one, get the hash of their state
        // (as after an Admin API change), so that gateways sharing a database report the same
        const byState = opts.loaded || this.opts.store?.db.shared;
        await this.commitDurable(this.state, state, opts.loaded ? 'none' : 'replace', byState ? undefined : documentHash(doc));
      } catch (e) {
        // found while compiling the routes' chains: reported at the plugin that declared it
        if (e instanceof OrderingCycleError) {
          const at = (e.pluginId && state.sourcePaths.get(e.pluginId)) || 'plugins';
          throw new DeclarativeError([{ path: `${at}.ordering`, message: e.reason }]);
        }
        throw e;
      }
    } catch (e) {
      this.limits = this.env.limits = previousLimits;
      throw e;
    }
  }

  /**
   * Compiles the handlebars templates of an Admin API plugin body ahead, off
   * the event loop, so that the `mutate` that follows finds them compiled.
   * (`applyDocument` does the same for a whole document.)
   */
  async prepare(body: unknown): Promise<void> {
    const found = findDatakitConfigs(body);
    // a PATCH body need not name the plugin: its config is looked at as a datakit config, harmlessly if it is not one
    if (!found.length && isRecord(body) && isRecord(body.config)) found.push({ path: 'config', config: body.config });
    await this.prepareFlows(found, this.limits, false);
  }

  /** Template errors are left to validation; a template the compiler cannot finish fails the change. */
  private async prepareFlows(found: FoundConfig[], limits: Limits, document: boolean): Promise<void> {
    for (const { path, config } of found) {
      if (!isRecord(config) || !Array.isArray(config.nodes)) continue;
      const flowLimits = isRecord(config.limits) ? resolveLimits(limits, config.limits as Partial<Limits>) : limits;
      for (const [i, node] of config.nodes.entries()) {
        if (!isRecord(node) || node.type !== 'handlebars' || typeof node.template !== 'string') continue;
        try {
          await prepareTemplates([node.template], flowLimits);
        } catch (e) {
          if (!(e instanceof PrecompileError)) throw e;
          if (e.reason === 'busy') throw new GatewayError(503, { message: e.message });
          const at = `${path ? path + '.' : ''}nodes[${i}].template`;
          if (document) throw new DeclarativeError([{ path: at, message: e.message }]);
          throw new GatewayError(400, { code: 2, name: 'schema violation', message: `schema violation (${at}: ${e.message})`, fields: { [at]: e.message } });
        }
      }
    }
  }

  static baseDirOf(file: string): string {
    return dirname(resolve(file));
  }

  /**
   * Applies a change to a copy of the state; commits it only when it compiles
   * and, in database mode, once the database has committed it.
   */
  mutate<T>(fn: (state: State) => T): Promise<T> {
    return this.serial(async () => {
      if (this.opts.store && !this.databaseReachable) throw this.refuseWrite('unreachable', databaseUnreachable());
      // validated against the latest stored configuration, not a stale snapshot
      await this.catchUpNow('write').catch((e) => {
        // the server went away while reading
        if (!this.databaseReachable) throw this.refuseWrite('unreachable', databaseUnreachable());
        if ((e as { code?: unknown }).code === '57014') throw this.refuseWrite('timeout', new StatementTimeout(this.opts.store!.limits.statement_timeout_ms));
        // a template compiler too busy (503) is no database matter
        if (e instanceof GatewayError && e.status === 503) throw e;
        const reason = e instanceof GatewayError && typeof e.body.message === 'string' ? e.body.message : (e as Error).message;
        throw this.refuseWrite(
          'unservable_configuration',
          new GatewayError(503, { message: `the configuration in the database cannot be served (${reason}): writes are refused until it is fixed` }),
        );
      });
      const prev = this.state;
      const next = prev.clone();
      const r = fn(next);
      await this.commitDurable(prev, next, 'changes');
      return r;
    });
  }

  /** Builds the snapshot (throws when invalid), writes to the database, then swaps. */
  private async commitDurable(prev: State, next: State, write: 'changes' | 'replace' | 'none', hash?: string): Promise<void> {
    const built = this.build(next);
    const store = this.opts.store;
    let version: number | undefined;
    if (store && write !== 'none') {
      try {
        if (!this.databaseReachable) throw databaseUnreachable();
        version = write === 'replace' ? await store.replaceAll(next) : await store.applyChanges(prev, next);
      } catch (e) {
        this.discard(built);
        const failure = this.databaseFailure(e);
        if (failure instanceof GatewayError && failure.status === 503 && !this.databaseReachable) throw this.refuseWrite('unreachable', failure);
        if (failure instanceof StatementTimeout) throw this.refuseWrite('timeout', failure);
        throw failure;
      }
    }
    this.install(next, built, hash);
    // a version skipped means another gateway committed in between: its notification (or the poll) reloads
    if (version !== undefined && (write === 'replace' || version === this.dbVersion + 1)) this.dbVersion = version;
  }

  /** `hash`: the loaded document's (so the same document has the same hash); otherwise that of the resulting state */
  private commit(next: State, hash?: string): void {
    this.install(next, this.build(next), hash);
  }

  private build(next: State): { snap: Snapshot; prevVaults: ReturnType<SecretManager['setVaults']> } {
    const prevVaults = this.secrets.setVaults(
      [...next.vaults.values()].map((v) => ({ id: v.id, name: String(v.name), prefix: String(v.prefix), config: v.config as Rec })),
    );
    try {
      return { snap: Snapshot.build(next, this.registry, this.env, this.instances), prevVaults };
    } catch (e) {
      this.secrets.restoreVaults(prevVaults);
      if (e instanceof GatewayError) throw e;
      throw new GatewayError(400, { message: (e as Error).message });
    }
  }

  /** A built snapshot that will not be served: its vaults go back, its new plugin instances close. */
  private discard(built: { snap: Snapshot; prevVaults: ReturnType<SecretManager['setVaults']> }): void {
    this.secrets.restoreVaults(built.prevVaults);
    for (const [k, inst] of built.snap.instances) {
      if (this.instances.get(k) === inst) continue;
      try {
        inst.close?.();
      } catch {
        /* ignore */
      }
    }
  }

  private install(next: State, built: { snap: Snapshot }, hash?: string): void {
    const snap = built.snap;
    for (const [k, inst] of this.instances) {
      if (!snap.instances.has(k) && inst.close) {
        // let requests in flight finish with it
        setTimeout(() => {
          try {
            inst.close!();
          } catch {
            /* ignore */
          }
        }, 30_000).unref();
      }
    }
    this.instances = snap.instances;
    this.state = next;
    this.snapshot = snap;
    this.proxy.snapshot = snap;
    this.version++;
    this.configHash = hash ?? stateHash(next);
    if (this.onCommit) this.onCommit(exportState(next));
  }

  exportDocument(): Rec {
    return exportState(this.state);
  }

  settingsView(): Rec {
    return this.settings;
  }

  async close(): Promise<void> {
    await this.proxy.closePools();
    for (const inst of this.instances.values()) {
      try {
        inst.close?.();
      } catch {
        /* ignore */
      }
    }
    this.instances.clear();
    await this.env.datakit?.close?.().catch(() => undefined);
    await this.opts.store?.close().catch(() => undefined);
  }
}

/** Admin API writes while the database server cannot be reached */
export function databaseUnreachable(): GatewayError {
  return new GatewayError(503, { message: 'the database is unreachable: writes are refused until it is back' });
}

function isRecord(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
