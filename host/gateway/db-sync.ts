/**
 * Keeps a gateway's snapshot in step with a PostgreSQL server shared with
 * other gateways: a LISTEN connection hears each committed change's version
 * (NOTIFY, sent by the writer inside its transaction), a poll every
 * `db_update_frequency` seconds catches a missed one, and either reloads the
 * entities when the database is at a newer version. Reloads coalesce: at most
 * one running and one waiting, however many changes arrive.
 *
 * When the server goes away the gateway keeps serving its last snapshot,
 * refuses writes (503, host/gateway/core.ts), logs once, and reconnects with
 * a growing wait; once back it listens again and reloads what it missed.
 */
import type { Logger } from 'pino';
import { CONFIG_CHANNEL, type EntityStore } from '../db/entity-store.js';
import { DatabaseUnreachable, type Notifications } from '../db/sql.js';
import type { GatewayCore } from './core.js';
import type { ReloadSource } from './metrics.js';

/** seconds between two version checks (Kong's db_update_frequency) */
export const DEFAULT_DB_UPDATE_FREQUENCY = 5;

const FIRST_RECONNECT_WAIT_MS = 100;

export class DatabaseSync {
  private listener?: Notifications;
  private poll?: NodeJS.Timeout;
  private reloading = false;
  /** what asked for the reload waiting behind the running one (the first asker) */
  private pendingSource?: ReloadSource;
  private reconnecting = false;
  private stopped = false;
  private wakeReconnect?: () => void;
  private lostAt = 0;
  /** last reload error logged, so a configuration this node cannot build is not logged at every poll */
  private lastReloadError = '';
  /** reloads run (tests and metrics) */
  reloads = 0;

  constructor(
    private readonly core: GatewayCore,
    private readonly store: EntityStore,
    private readonly logger: Logger,
    private readonly updateFrequencySeconds = DEFAULT_DB_UPDATE_FREQUENCY,
  ) {}

  /** Starts listening and polling (a server: `store.db.listen`). */
  async start(): Promise<void> {
    if (!this.store.db.listen) throw new Error(`${this.store.db.location} cannot deliver notifications`);
    this.core.onDatabaseLost = (err) => this.lost(err);
    await this.subscribe();
    // a change committed between the load at start and LISTEN was not heard: look now, not at the first poll
    this.check('start');
    this.poll = setInterval(() => this.check('poll'), this.updateFrequencySeconds * 1000);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    this.wakeReconnect?.();
    await this.listener?.close();
  }

  private async subscribe(): Promise<void> {
    const listener: Notifications = await this.store.db.listen!(CONFIG_CHANNEL, {
      notify: (payload) => {
        // a version this snapshot already has (this gateway's own write) needs nothing;
        // a NOTIFY without one (sent by hand) is checked against the database
        const version = payload.trim() ? Number(payload) : NaN;
        if (!(version <= this.core.dbVersion)) this.requestReload('notify');
      },
      lost: (err) => {
        if (this.listener === listener) this.listener = undefined;
        this.lost(err);
      },
    });
    if (this.stopped) return void (await listener.close());
    this.listener = listener;
  }

  /** the poll: compares versions, reloads when behind */
  private check(source: ReloadSource): void {
    if (!this.core.databaseReachable || this.stopped) return;
    this.store.version().then(
      (v) => {
        if (v > this.core.dbVersion) this.requestReload(source);
      },
      (e) => {
        if (e instanceof DatabaseUnreachable) this.core.databaseLost(e);
        else this.logger.warn({ err: (e as Error).message }, 'database version check failed');
      },
    );
  }

  /** One reload runs at a time; requests meanwhile become one more reload after it. */
  requestReload(source: ReloadSource): void {
    if (this.stopped) return;
    if (this.reloading) {
      this.pendingSource ??= source;
      return;
    }
    this.reloading = true;
    void (async () => {
      let next: ReloadSource | undefined = source;
      do {
        this.pendingSource = undefined;
        await this.reloadOnce(next);
        next = this.pendingSource;
      } while (next && !this.stopped);
      this.reloading = false;
    })();
  }

  private async reloadOnce(source: ReloadSource): Promise<void> {
    const from = this.core.dbVersion;
    try {
      if (!(await this.core.reloadFromStore(source))) return;
      this.reloads++;
      this.lastReloadError = '';
      this.logger.info({ from_version: from, version: this.core.dbVersion, source }, 'configuration reloaded from the database');
    } catch (e) {
      // unreachable: already logged once for the outage, and the reconnection reloads; stopping: the pool is closing
      if (!this.core.databaseReachable || this.stopped) return;
      const message = (e as Error).message;
      if (message !== this.lastReloadError) {
        this.lastReloadError = message;
        this.logger.error({ err: message, version: this.core.dbVersion }, 'the configuration in the database cannot be served: keeping the current one');
      }
    }
  }

  /** The server is gone (the LISTEN connection dropped, or a query could not reach it). */
  private lost(err: Error): void {
    if (this.stopped) return;
    // the core turns unreachable and calls back here (onDatabaseLost)
    if (this.core.databaseReachable) return this.core.databaseLost(err);
    if (!this.lostAt) {
      this.lostAt = Date.now();
      this.logger.error(
        { database: this.store.db.location, err: err.message },
        'the database is unreachable: serving the last configuration, Admin API writes refused until it is back',
      );
    }
    void this.listener?.close();
    this.listener = undefined;
    if (!this.reconnecting) void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    this.reconnecting = true;
    let wait = FIRST_RECONNECT_WAIT_MS;
    try {
      while (!this.stopped) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wakeReconnect = () => {
            clearTimeout(t);
            resolve();
          };
        });
        if (this.stopped) return;
        try {
          await this.store.version();
          await this.subscribe();
        } catch {
          wait = Math.min(wait * 2, this.store.limits.reconnect_backoff_max_ms);
          continue;
        }
        // the new LISTEN connection may already have dropped again
        if (!this.listener) continue;
        this.core.databaseReachable = true;
        this.logger.info({ database: this.store.db.location, outage_ms: Date.now() - this.lostAt }, 'the database is reachable again: catching up');
        this.lostAt = 0;
        this.requestReload('reconnect');
        return;
      }
    } finally {
      this.reconnecting = false;
      this.wakeReconnect = undefined;
    }
  }
}
