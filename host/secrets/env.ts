import { parseVaultReference, SecretError, type SecretResolver, type VaultReference } from './reference.js';

/** `{vault://env/my-secret}` reads MY_SECRET (upper case, '-' to '_'). */
export function envVariableName(id: string, prefix = ''): string {
  return (prefix + id).toUpperCase().replace(/-/g, '_');
}

/** Reads one reference from an environment map (spec section 5, env backend). */
export function readEnvSecret(
  ref: VaultReference,
  env: NodeJS.ProcessEnv = process.env,
  prefix = '',
): string {
  const name = envVariableName(ref.id, prefix);
  const raw = env[name];
  if (raw === undefined) throw new SecretError(`could not resolve ${ref.text}: environment variable ${name} is not set`);
  if (ref.key === undefined) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`could not resolve ${ref.text}: environment variable ${name} does not hold JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || !Object.prototype.hasOwnProperty.call(parsed, ref.key)) {
    throw new SecretError(`could not resolve ${ref.text}: key "${ref.key}" not found`);
  }
  const v = (parsed as Record<string, unknown>)[ref.key];
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The default resolver: the `env` backend only. The gateway supplies a richer
 * one (vault entities with prefixes, TTL re-resolution). */
export class EnvSecretResolver implements SecretResolver {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}
  resolve(reference: string): string {
    const ref = parseVaultReference(reference);
    if (!ref) throw new SecretError(`invalid vault reference`);
    if (ref.backend !== 'env') throw new SecretError(`could not resolve ${reference}: vault "${ref.backend}" is not configured`);
    return readEnvSecret(ref, this.env);
  }
}
