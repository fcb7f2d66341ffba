/** Vault references: `{vault://BACKEND/ID[/KEY][/]}` (spec section 5). */
export interface VaultReference {
  /** backend name or vault entity prefix, e.g. `env` */
  backend: string;
  /** secret id, e.g. `my-secret` */
  id: string;
  /** JSON key inside the secret, when the reference has one */
  key?: string;
  /** the original reference text */
  text: string;
}

const REFERENCE = /^\{vault:\/\/([^/{}]+)\/([^{}]+)\}$/;

export function isVaultReference(value: unknown): value is string {
  return typeof value === 'string' && REFERENCE.test(value.trim());
}

/** Parses a reference; returns undefined when the text is not one. */
export function parseVaultReference(text: string): VaultReference | undefined {
  const m = REFERENCE.exec(text.trim());
  if (!m) return undefined;
  const backend = m[1];
  let rest = m[2];
  // trailing '/': the whole rest is one id, no key extraction
  if (rest.endsWith('/')) return { backend, id: rest.slice(0, -1), text };
  const slash = rest.indexOf('/');
  if (slash < 0) return { backend, id: rest, text };
  return { backend, id: rest.slice(0, slash), key: rest.slice(slash + 1), text };
}

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** Resolves vault references to secret strings. Synchronous on purpose: the
 * engine asks for secrets from inside a wasm import; backends that need I/O
 * must prefetch and cache (see the gateway's vault manager). */
export interface SecretResolver {
  resolve(reference: string): string;
}
