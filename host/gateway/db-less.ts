/**
 * Kong's DB-less refusal of Admin API entity writes: without a database the
 * declarative configuration is the truth, so creating, changing or removing a
 * single entity answers 405 with Kong's `operation unsupported` error (code 12);
 * `POST /config` replaces the whole configuration instead.
 */
import { NAME_FIELD, isUuid, type Collection } from './entities.js';

/** `adminWrites` of startGateway: refuse entity writes without a database (Kong), or keep them in memory until the process stops */
export type AdminWrites = 'refuse' | 'memory';

export const ADMIN_WRITES_VALUES: readonly AdminWrites[] = ['refuse', 'memory'];

/** Kong's error table entry for OPERATION_UNSUPPORTED (kong/db/errors.lua) */
export interface OperationUnsupported {
  code: 12;
  name: 'operation unsupported';
  message: string;
}

/** Kong's DAO operation behind each write method */
const OPERATION: Record<string, string> = {
  POST: 'create',
  PATCH: 'update',
  PUT: 'create or update',
  DELETE: 'remove',
};

/**
 * The refusal of a write on one entity kind. `key` is the path's entity key:
 * Kong addresses an entity by id when it is a UUID, else by the kind's endpoint
 * key (a service's name, a consumer's username...), and says so (`by 'name'`).
 * `entity` is Kong's schema name (keyauth_credentials, consumer_group_consumers...).
 */
export function operationUnsupported(method: string, entity: string, key?: string): OperationUnsupported {
  const op = OPERATION[method] ?? 'create';
  const field = key !== undefined && !isUuid(key) && method !== 'POST' ? NAME_FIELD[entity as Collection] : undefined;
  const message = field
    ? `cannot ${op} '${entity}' entities by '${field}' when not using a database`
    : `cannot ${op} '${entity}' entities when not using a database`;
  return { code: 12, name: 'operation unsupported', message };
}
