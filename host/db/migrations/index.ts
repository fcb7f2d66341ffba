/** Every schema migration, in the order they run. Never edit one that shipped: add the next. */
import * as m001 from './001_entities.js';

export interface Migration {
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [m001];
