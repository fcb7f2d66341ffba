/**
 * The first schema: one table per entity kind. Typed columns hold what the
 * database must enforce (unique names, foreign keys, timestamps, tags); `entity`
 * holds the whole record as the Admin API shows it (json, not jsonb: key order
 * is kept, so an export is byte-for-byte what was imported). `seq` keeps the
 * order entities were created in. Foreign keys are checked at commit, so one
 * transaction may write a route before its service.
 */
export const name = '001_entities';

const fk = (col: string, table: string) =>
  `${col} uuid REFERENCES ${table} (id) DEFERRABLE INITIALLY DEFERRED`;

const common = `
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL,
  tags text[],
  created_at bigint NOT NULL,
  updated_at bigint,
  entity json NOT NULL`;

export const up = `
CREATE TABLE services (${common},
  name text UNIQUE);
CREATE TABLE routes (${common},
  name text UNIQUE,
  ${fk('service_id', 'services')});
CREATE TABLE consumers (${common},
  username text UNIQUE,
  custom_id text UNIQUE);
CREATE TABLE consumer_groups (${common},
  name text UNIQUE);
CREATE TABLE keyauth_credentials (${common},
  key text UNIQUE,
  ${fk('consumer_id', 'consumers')});
CREATE TABLE upstreams (${common},
  name text UNIQUE);
CREATE TABLE targets (${common},
  target text NOT NULL,
  ${fk('upstream_id', 'upstreams')},
  UNIQUE (upstream_id, target));
CREATE TABLE vaults (${common},
  prefix text UNIQUE);
CREATE TABLE partials (${common},
  name text UNIQUE);
CREATE TABLE plugins (${common},
  name text NOT NULL,
  ${fk('service_id', 'services')},
  ${fk('route_id', 'routes')},
  ${fk('consumer_id', 'consumers')},
  ${fk('consumer_group_id', 'consumer_groups')});
-- one plugin of a name per scope, as Kong's cache key
CREATE UNIQUE INDEX plugins_scope_key ON plugins (name,
  coalesce(service_id::text, ''), coalesce(route_id::text, ''),
  coalesce(consumer_id::text, ''), coalesce(consumer_group_id::text, ''));
CREATE TABLE consumer_group_members (
  seq bigserial NOT NULL,
  ${fk('consumer_group_id', 'consumer_groups')} NOT NULL,
  ${fk('consumer_id', 'consumers')} NOT NULL,
  PRIMARY KEY (consumer_group_id, consumer_id));
-- the declarative document's settings (limits, plugin paths), one row
CREATE TABLE gateway_settings (
  key text PRIMARY KEY,
  value json NOT NULL);
`;
