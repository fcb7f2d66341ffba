import { parse as parseYaml, YAMLParseError } from 'yaml';

/** A datakit plugin config found in a file, with where it was found. */
export interface FoundConfig {
  /** e.g. `plugins[0].config` or `filter_chains[1].filters[0].config`; '' for a bare config */
  path: string;
  config: unknown;
}

export class ConfigParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigParseError';
  }
}

/** Parses YAML or JSON text (YAML is a superset) into plain data. */
export function parseConfigText(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      throw new ConfigParseError(`invalid YAML/JSON${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`);
    }
    throw new ConfigParseError(`invalid YAML/JSON: ${(e as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A plugin config may arrive as an object or (3.10 filter chains) as JSON text. */
function configValue(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/** A 3.10 datakit filter's config runs with 3.10's semantics unless it names a dialect (docs/compat.md). */
function filterConfig(config: unknown): unknown {
  return isObject(config) && config.dialect === undefined ? { ...config, dialect: '3.10' } : config;
}

/**
 * Finds every datakit config in a document: a bare plugin config
 * (`nodes: ...`), a plugin entry (`name: datakit, config: ...`), or a
 * declarative file with `plugins` (global, or nested in services, routes,
 * consumers, consumer groups) and 3.10 `filter_chains[].filters[]`.
 */
export function findDatakitConfigs(doc: unknown): FoundConfig[] {
  if (!isObject(doc)) return [];
  if ('nodes' in doc) return [{ path: '', config: doc }];
  if (doc.name === 'datakit' && 'config' in doc) return [{ path: 'config', config: configValue(doc.config) }];
  const found: FoundConfig[] = [];
  const scanPlugins = (list: unknown, at: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((p, i) => {
      if (isObject(p) && p.name === 'datakit') found.push({ path: `${at}[${i}].config`, config: configValue(p.config ?? {}) });
    });
  };
  const scanChains = (list: unknown, at: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((chain, i) => {
      if (!isObject(chain) || !Array.isArray(chain.filters)) return;
      chain.filters.forEach((f, j) => {
        if (isObject(f) && f.name === 'datakit')
          found.push({ path: `${at}[${i}].filters[${j}].config`, config: filterConfig(configValue(f.config ?? {})) });
      });
    });
  };
  scanPlugins(doc.plugins, 'plugins');
  scanChains(doc.filter_chains, 'filter_chains');
  for (const kind of ['services', 'routes', 'consumers', 'consumer_groups']) {
    const list = doc[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((e, i) => {
      if (!isObject(e)) return;
      scanPlugins(e.plugins, `${kind}[${i}].plugins`);
      scanChains(e.filter_chains, `${kind}[${i}].filter_chains`);
      if (kind === 'services' && Array.isArray(e.routes)) {
        e.routes.forEach((r, j) => {
          if (!isObject(r)) return;
          scanPlugins(r.plugins, `services[${i}].routes[${j}].plugins`);
          scanChains(r.filter_chains, `services[${i}].routes[${j}].filter_chains`);
        });
      }
    });
  }
  return found;
}

/** Turns the argument of load/validate into the plugin config object. */
export function toPluginConfig(config: object | string): unknown {
  const doc = typeof config === 'string' ? parseConfigText(config) : config;
  const found = findDatakitConfigs(doc);
  if (found.length === 1 && (found[0].path === '' || found[0].path === 'config')) return found[0].config;
  return doc;
}
