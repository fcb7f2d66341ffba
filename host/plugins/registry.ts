/** The set of plugins the gateway knows: bundled ones plus custom modules. */
import { datakitPlugin } from './datakit.js';
import { keyAuthPlugin, type KeyAuthLookup } from './key-auth.js';
import { requestTransformerPlugin } from './request-transformer.js';
import type { FieldErrors, PluginDef, PluginEnv } from './types.js';

export const BUNDLED = new Set(['key-auth', 'datakit', 'request-transformer']);

export class PluginRegistry {
  readonly defs = new Map<string, PluginDef>();

  constructor(keyAuthLookup: () => KeyAuthLookup) {
    for (const d of [keyAuthPlugin(keyAuthLookup), datakitPlugin(), requestTransformerPlugin()]) this.defs.set(d.name, d);
  }

  register(def: PluginDef): void {
    this.defs.set(def.name, def);
  }

  get(name: string): PluginDef | undefined {
    return this.defs.get(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  /** Validates a plugin entity's config (used by the State). */
  validator(env: () => PluginEnv) {
    return (entity: Record<string, unknown>): { config?: Record<string, unknown>; errors?: FieldErrors; noConsumer?: boolean } => {
      const name = String(entity.name);
      const def = this.defs.get(name);
      if (!def) return { errors: { name: `plugin '${name}' not enabled; add it to the 'plugins' configuration property` } };
      const r = def.validate(entity.config ?? {}, env());
      return { ...r, noConsumer: def.noConsumer };
    };
  }
}
