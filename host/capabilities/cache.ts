/**
 * Cache capability for the Datakit `cache` node.
 *
 * Two strategies, selected by `resources.cache.strategy`:
 *  - `memory`: an in-process LRU store with TTL, shared by every backend of
 *    this process/worker that uses the same `dictionary_name`
 *    (default `kong_db_cache`). Values are stored as JSON text, so callers
 *    always get a fresh copy.
 *  - `redis`: a real Redis (standalone, Sentinel or Cluster) through ioredis.
 *    Values are JSON text; TTL uses `SET key value EX ttl` (PX for fractional
 *    seconds). Every operation is bounded by a timeout and fails with a
 *    CacheError instead of hanging when Redis is unreachable.
 *
 * Keys are prefixed with `datakit:cache:` in both strategies.
 * See docs/capabilities.md for the option mapping.
 */
import { Redis, Cluster } from 'ioredis';
import type { RedisOptions, ClusterOptions } from 'ioredis';

export const KEY_PREFIX = 'datakit:cache:';
export const DEFAULT_DICTIONARY = 'kong_db_cache';
export const DEFAULT_MAX_ENTRIES = 10000;
/** Kong's Redis `timeout` default, in milliseconds. */
export const DEFAULT_REDIS_TIMEOUT_MS = 2000;

export interface RedisNode {
  host?: string;
  ip?: string;
  port?: number;
}

/** Kong's shared Redis configuration shape (as used by rate-limiting-advanced, proxy-cache-advanced, datakit...). */
export interface RedisSettings {
  host?: string;
  port?: number;
  database?: number;
  username?: string | null;
  password?: string | null;
  ssl?: boolean;
  ssl_verify?: boolean;
  server_name?: string | null;
  timeout?: number;
  connect_timeout?: number | null;
  send_timeout?: number | null;
  read_timeout?: number | null;
  keepalive_pool_size?: number;
  keepalive_backlog?: number | null;
  sentinel_master?: string | null;
  sentinel_role?: 'master' | 'slave' | 'any' | null;
  sentinel_nodes?: RedisNode[] | null;
  sentinel_username?: string | null;
  sentinel_password?: string | null;
  cluster_nodes?: RedisNode[] | null;
  cluster_max_redirections?: number;
  connection_is_proxied?: boolean;
}

export interface CacheResourceConfig {
  strategy: 'memory' | 'redis';
  memory?: { dictionary_name?: string; max_entries?: number };
  redis?: RedisSettings;
}

export interface CacheBackend {
  get(key: string): Promise<{ hit: true; value: unknown } | { hit: false }>;
  set(key: string, value: unknown, ttlSeconds: number | undefined): Promise<void>;
  close(): Promise<void>;
}

export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

// ---------------------------------------------------------------------------
// helpers

function encodeValue(value: unknown, prefix: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new CacheError(`${prefix}value is not JSON-serializable: ${(e as Error).message}`);
  }
  if (text === undefined) throw new CacheError(`${prefix}value is not JSON-serializable`);
  return text;
}

function decodeValue(text: string, prefix: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CacheError(`${prefix}cached value is not valid JSON`);
  }
}

function checkKey(key: unknown, prefix: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new CacheError(`${prefix}cache key must be a non-empty string`);
  return key;
}

/** TTL in seconds; undefined/null/0/negative/non-finite mean "no expiry". */
function normalizeTtl(ttl: number | undefined | null): number {
  if (ttl === undefined || ttl === null) return 0;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) return 0;
  return ttl;
}

// ---------------------------------------------------------------------------
// memory strategy

interface MemoryEntry {
  text: string;
  expiresAt: number; // epoch ms, 0 = never
}

class MemoryStore {
  readonly entries = new Map<string, MemoryEntry>();
  constructor(public maxEntries: number) {}

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== 0 && e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // refresh LRU position
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.text;
  }

  set(key: string, text: string, ttlSeconds: number): void {
    const expiresAt = ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : 0;
    this.entries.delete(key);
    this.entries.set(key, { text, expiresAt });
    this.evict();
  }

  evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    // first drop expired entries, then the least recently used ones
    const now = Date.now();
    for (const [k, e] of this.entries) {
      if (e.expiresAt !== 0 && e.expiresAt <= now) this.entries.delete(k);
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

const memoryStores = new Map<string, MemoryStore>();

function getMemoryStore(name: string, maxEntries: number | undefined): MemoryStore {
  let store = memoryStores.get(name);
  if (!store) {
    store = new MemoryStore(maxEntries ?? DEFAULT_MAX_ENTRIES);
    memoryStores.set(name, store);
  } else if (maxEntries !== undefined && maxEntries !== store.maxEntries) {
    // the most recent explicit configuration wins for a shared dictionary
    store.maxEntries = maxEntries;
    store.evict();
  }
  return store;
}

/** Drops one (or every) in-process dictionary. Meant for tests and config reloads. */
export function clearMemoryCache(dictionaryName?: string): void {
  if (dictionaryName === undefined) memoryStores.clear();
  else memoryStores.delete(dictionaryName);
}

/** Number of live entries in a dictionary (expired-but-not-yet-evicted entries included). */
export function memoryCacheSize(dictionaryName: string = DEFAULT_DICTIONARY): number {
  return memoryStores.get(dictionaryName)?.entries.size ?? 0;
}

class MemoryBackend implements CacheBackend {
  private readonly store: MemoryStore;
  constructor(name: string, maxEntries: number | undefined) {
    this.store = getMemoryStore(name, maxEntries);
  }
  async get(key: string): Promise<{ hit: true; value: unknown } | { hit: false }> {
    const text = this.store.get(KEY_PREFIX + checkKey(key, 'memory: '));
    if (text === undefined) return { hit: false };
    return { hit: true, value: decodeValue(text, 'memory: ') };
  }
  async set(key: string, value: unknown, ttlSeconds: number | undefined): Promise<void> {
    const k = KEY_PREFIX + checkKey(key, 'memory: ');
    this.store.set(k, encodeValue(value, 'memory: '), normalizeTtl(ttlSeconds));
  }
  async close(): Promise<void> {
    // the dictionary is shared process-wide and outlives a backend
  }
}

// ---------------------------------------------------------------------------
// redis strategy

type RedisClient = Redis | Cluster;

interface SharedClient {
  client: RedisClient;
  refs: number;
  timeoutMs: number;
  lastError: Error | undefined;
  closing: boolean;
}

const redisClients = new Map<string, SharedClient>();

/** Stop background reconnection after this many consecutive failures; the next operation restarts it. */
const MAX_RECONNECT_ATTEMPTS = 20;

function reconnectDelay(times: number): number | null {
  if (times > MAX_RECONNECT_ATTEMPTS) return null;
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

function nodeAddress(n: RedisNode): { host: string; port: number } {
  return { host: n.ip ?? n.host ?? '127.0.0.1', port: n.port ?? 6379 };
}

interface NormalizedRedis {
  host: string;
  port: number;
  database: number;
  username?: string;
  password?: string;
  ssl: boolean;
  ssl_verify: boolean;
  server_name?: string;
  connect_timeout: number;
  send_timeout: number;
  read_timeout: number;
  sentinel_master?: string;
  sentinel_role: 'master' | 'slave' | 'any';
  sentinel_nodes?: { host: string; port: number }[];
  sentinel_username?: string;
  sentinel_password?: string;
  cluster_nodes?: { host: string; port: number }[];
  cluster_max_redirections: number;
  connection_is_proxied: boolean;
}

function orUndef<T>(v: T | null | undefined): T | undefined {
  return v === null || v === undefined || (v as unknown) === '' ? undefined : v;
}

function normalizeRedis(r: RedisSettings = {}): NormalizedRedis {
  const timeout = r.timeout ?? DEFAULT_REDIS_TIMEOUT_MS;
  const sentinelNodes = r.sentinel_nodes && r.sentinel_nodes.length > 0 ? r.sentinel_nodes.map(nodeAddress) : undefined;
  const clusterNodes = r.cluster_nodes && r.cluster_nodes.length > 0 ? r.cluster_nodes.map(nodeAddress) : undefined;
  return {
    host: r.host ?? '127.0.0.1',
    port: r.port ?? 6379,
    database: r.database ?? 0,
    username: orUndef(r.username),
    password: orUndef(r.password),
    ssl: r.ssl ?? false,
    ssl_verify: r.ssl_verify ?? false,
    server_name: orUndef(r.server_name),
    connect_timeout: r.connect_timeout ?? timeout,
    send_timeout: r.send_timeout ?? timeout,
    read_timeout: r.read_timeout ?? timeout,
    sentinel_master: orUndef(r.sentinel_master),
    sentinel_role: r.sentinel_role ?? 'master',
    sentinel_nodes: sentinelNodes,
    sentinel_username: orUndef(r.sentinel_username),
    sentinel_password: orUndef(r.sentinel_password),
    cluster_nodes: clusterNodes,
    cluster_max_redirections: r.cluster_max_redirections ?? 5,
    connection_is_proxied: r.connection_is_proxied ?? false,
  };
}

function buildClient(n: NormalizedRedis, shared: SharedClient): RedisClient {
  const opTimeout = Math.max(n.send_timeout, n.read_timeout);
  const base: RedisOptions = {
    username: n.username,
    password: n.password,
    connectTimeout: n.connect_timeout,
    commandTimeout: opTimeout,
    // Commands issued while (re)connecting wait in the offline queue, but they
    // are flushed with an error on the first failed connection attempt.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelay,
    // proxies (Envoy, twemproxy...) usually do not implement INFO / CLIENT
    enableReadyCheck: !n.connection_is_proxied,
    lazyConnect: true,
    keepAlive: 30_000,
  };
  if (n.ssl) {
    base.tls = { rejectUnauthorized: n.ssl_verify, servername: n.server_name ?? (n.cluster_nodes ? undefined : n.host) };
  }

  if (n.cluster_nodes) {
    const opts: ClusterOptions = {
      redisOptions: { ...base, retryStrategy: undefined } as ClusterOptions['redisOptions'],
      maxRedirections: n.cluster_max_redirections,
      enableOfflineQueue: true,
      enableReadyCheck: !n.connection_is_proxied,
      clusterRetryStrategy: (times: number) => reconnectDelay(times),
      slotsRefreshTimeout: n.connect_timeout,
      lazyConnect: true,
    };
    const c = new Cluster(n.cluster_nodes, opts);
    c.on('error', (e: Error) => {
      shared.lastError = e;
    });
    c.on('ready', () => {
      shared.lastError = undefined;
    });
    return c;
  }

  const opts: RedisOptions = { ...base, db: n.database };
  if (n.sentinel_master && n.sentinel_nodes) {
    opts.name = n.sentinel_master;
    opts.sentinels = n.sentinel_nodes;
    // 'any' is not an ioredis role; a cache must write, so 'any' uses the master.
    // 'slave' connects to a replica (writes then fail with READONLY, as in Kong).
    opts.role = n.sentinel_role === 'slave' ? 'slave' : 'master';
    opts.sentinelUsername = n.sentinel_username;
    opts.sentinelPassword = n.sentinel_password;
    opts.sentinelRetryStrategy = reconnectDelay;
    opts.sentinelCommandTimeout = n.connect_timeout;
    if (n.ssl) {
      opts.enableTLSForSentinelMode = true;
      opts.sentinelTLS = base.tls;
    }
  } else {
    opts.host = n.host;
    opts.port = n.port;
  }
  const c = new Redis(opts);
  c.on('error', (e: Error) => {
    shared.lastError = e;
  });
  c.on('ready', () => {
    shared.lastError = undefined;
  });
  return c;
}

const GENERIC_CONNECTION_ERROR =
  /Connection is closed|max retries per request|Stream isn't writeable|enableOfflineQueue|None of startup nodes is available|Failed to refresh slots cache/i;

function errorMessage(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

function describe(err: unknown, shared: SharedClient): string {
  const msg = errorMessage(err);
  // generic connection failures: report the underlying socket error if we saw one
  if (GENERIC_CONNECTION_ERROR.test(msg) && shared.lastError) return `redis: ${shared.lastError.message}`;
  if (/Command timed out/i.test(msg)) return 'redis: timeout';
  return `redis: ${msg}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheError('redis: timeout')), ms);
    timer.unref?.();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

class RedisBackend implements CacheBackend {
  private closed = false;
  constructor(
    private readonly shared: SharedClient,
    private readonly id: string,
  ) {}

  private async run<T>(op: (c: RedisClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new CacheError('redis: backend is closed');
    const s = this.shared;
    const c = s.client;
    if (c.status === 'wait' || c.status === 'end') {
      // first use, or background reconnection gave up: (re)start connecting
      c.connect().catch(() => {
        /* the socket error is reported through the 'error' event */
      });
    }
    // an overall deadline covers connect + command, so a dead Redis never hangs a request
    const deadline = s.timeoutMs + (c.status === 'ready' ? 0 : s.timeoutMs);
    try {
      return await withTimeout(op(c), deadline);
    } catch (e) {
      if (e instanceof CacheError) throw e;
      if (GENERIC_CONNECTION_ERROR.test(errorMessage(e)) && !s.lastError) {
        // the socket 'error' event may be emitted just after the command was rejected
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new CacheError(describe(e, s));
    }
  }

  async get(key: string): Promise<{ hit: true; value: unknown } | { hit: false }> {
    const k = KEY_PREFIX + checkKey(key, 'redis: ');
    const text = await this.run((c) => c.get(k));
    if (text === null || text === undefined) return { hit: false };
    return { hit: true, value: decodeValue(text, 'redis: ') };
  }

  async set(key: string, value: unknown, ttlSeconds: number | undefined): Promise<void> {
    const k = KEY_PREFIX + checkKey(key, 'redis: ');
    const text = encodeValue(value, 'redis: ');
    const ttl = normalizeTtl(ttlSeconds);
    await this.run(async (c) => {
      if (ttl === 0) await c.set(k, text);
      else if (Number.isInteger(ttl)) await c.set(k, text, 'EX', ttl);
      else await c.set(k, text, 'PX', Math.max(1, Math.round(ttl * 1000)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.shared;
    s.refs -= 1;
    if (s.refs > 0) return;
    redisClients.delete(this.id);
    s.closing = true;
    const c = s.client;
    if (c.status === 'ready') {
      try {
        await withTimeout(c.quit(), s.timeoutMs);
      } catch {
        /* fall through to disconnect */
      }
    }
    c.disconnect();
  }
}

function createRedisBackend(settings: RedisSettings | undefined): CacheBackend {
  const n = normalizeRedis(settings);
  const id = JSON.stringify(n);
  let shared = redisClients.get(id);
  if (!shared) {
    shared = {
      client: undefined as unknown as RedisClient,
      refs: 0,
      timeoutMs: Math.max(n.send_timeout, n.read_timeout, n.connect_timeout),
      lastError: undefined,
      closing: false,
    };
    shared.client = buildClient(n, shared);
    redisClients.set(id, shared);
  }
  shared.refs += 1;
  return new RedisBackend(shared, id);
}

/** Number of distinct live Redis clients (for tests / diagnostics). */
export function redisClientCount(): number {
  return redisClients.size;
}

// ---------------------------------------------------------------------------
// public factory + validation

export function createCacheBackend(config: CacheResourceConfig): CacheBackend {
  const errors = validateCacheResource(config);
  if (errors.length > 0) throw new CacheError(`invalid cache resource: ${errors.join('; ')}`);
  if (config.strategy === 'memory') {
    return new MemoryBackend(config.memory?.dictionary_name ?? DEFAULT_DICTIONARY, config.memory?.max_entries);
  }
  return createRedisBackend(config.redis);
}

const REDIS_FIELDS = new Set([
  'host',
  'port',
  'database',
  'username',
  'password',
  'ssl',
  'ssl_verify',
  'server_name',
  'timeout',
  'connect_timeout',
  'send_timeout',
  'read_timeout',
  'keepalive_pool_size',
  'keepalive_backlog',
  'sentinel_master',
  'sentinel_role',
  'sentinel_nodes',
  'sentinel_username',
  'sentinel_password',
  'cluster_nodes',
  'cluster_max_redirections',
  'connection_is_proxied',
]);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isNil = (v: unknown) => v === undefined || v === null;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function validateCacheResource(config: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(config)) return ['cache resource must be an object'];
  const strategy = config.strategy;
  if (strategy !== 'memory' && strategy !== 'redis') errs.push('strategy must be one of: memory, redis');
  for (const k of Object.keys(config)) {
    if (k !== 'strategy' && k !== 'memory' && k !== 'redis') errs.push(`${k}: unknown field`);
  }

  if (!isNil(config.memory)) {
    const m = config.memory;
    if (!isObj(m)) errs.push('memory must be an object');
    else {
      for (const k of Object.keys(m)) {
        if (k !== 'dictionary_name' && k !== 'max_entries') errs.push(`memory.${k}: unknown field`);
      }
      if (!isNil(m.dictionary_name) && (typeof m.dictionary_name !== 'string' || m.dictionary_name === ''))
        errs.push('memory.dictionary_name must be a non-empty string');
      if (!isNil(m.max_entries) && (!isInt(m.max_entries) || m.max_entries < 1))
        errs.push('memory.max_entries must be a positive integer');
    }
  }

  if (!isNil(config.redis)) {
    const r = config.redis;
    if (!isObj(r)) errs.push('redis must be an object');
    else validateRedis(r, errs);
  }
  return errs;
}

function validateRedis(r: Record<string, unknown>, errs: string[]): void {
  for (const k of Object.keys(r)) if (!REDIS_FIELDS.has(k)) errs.push(`redis.${k}: unknown field`);
  const str = (k: string) => {
    if (!isNil(r[k]) && typeof r[k] !== 'string') errs.push(`redis.${k} must be a string`);
  };
  const bool = (k: string) => {
    if (!isNil(r[k]) && typeof r[k] !== 'boolean') errs.push(`redis.${k} must be a boolean`);
  };
  const int = (k: string, min: number, max: number) => {
    const v = r[k];
    if (isNil(v)) return;
    if (!isInt(v) || v < min || v > max) errs.push(`redis.${k} must be an integer between ${min} and ${max}`);
  };
  str('host');
  str('username');
  str('password');
  str('server_name');
  str('sentinel_master');
  str('sentinel_username');
  str('sentinel_password');
  bool('ssl');
  bool('ssl_verify');
  bool('connection_is_proxied');
  int('port', 0, 65535);
  int('database', 0, 2 ** 31 - 1);
  for (const k of ['timeout', 'connect_timeout', 'send_timeout', 'read_timeout']) int(k, 1, 2 ** 31 - 1);
  int('keepalive_pool_size', 1, 2 ** 31 - 1);
  int('keepalive_backlog', 0, 2 ** 31 - 1);
  int('cluster_max_redirections', 0, 2 ** 31 - 1);
  if (!isNil(r.sentinel_role) && !['master', 'slave', 'any'].includes(r.sentinel_role as string))
    errs.push('redis.sentinel_role must be one of: master, slave, any');

  const nodes = (k: string) => {
    const v = r[k];
    if (isNil(v)) return 0;
    if (!Array.isArray(v)) {
      errs.push(`redis.${k} must be an array`);
      return 0;
    }
    v.forEach((n, i) => {
      if (!isObj(n)) {
        errs.push(`redis.${k}[${i}] must be an object with host (or ip) and port`);
        return;
      }
      const h = n.host ?? n.ip;
      if (typeof h !== 'string' || h === '') errs.push(`redis.${k}[${i}].host (or ip) must be a non-empty string`);
      if (!isNil(n.port) && (!isInt(n.port) || n.port < 1 || n.port > 65535))
        errs.push(`redis.${k}[${i}].port must be an integer between 1 and 65535`);
    });
    return v.length;
  };
  const sentinelCount = nodes('sentinel_nodes');
  const clusterCount = nodes('cluster_nodes');
  const hasMaster = typeof r.sentinel_master === 'string' && r.sentinel_master !== '';
  if (hasMaster && sentinelCount === 0) errs.push('redis.sentinel_nodes is required when sentinel_master is set');
  if (sentinelCount > 0 && !hasMaster) errs.push('redis.sentinel_master is required when sentinel_nodes is set');
  if (sentinelCount > 0 && clusterCount > 0) errs.push('redis: sentinel and cluster modes are mutually exclusive');
  if (r.connection_is_proxied === true && (sentinelCount > 0 || clusterCount > 0))
    errs.push('redis.connection_is_proxied cannot be used with sentinel or cluster nodes');
}
