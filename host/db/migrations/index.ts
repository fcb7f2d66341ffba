/** Every schema migration, in the order they run. Never edit one that shipped: add the next. */
import * as m001 from './001_entities.js';
import * as m002 from './002_config_version.js';

export interface Migration {
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [m001, m002];
