/**
 * JWT capability for the Datakit `jwt_decode`, `jwt_sign` and `jwt_verify` nodes (jose).
 *
 * Key forms (a key is never guessed into an HMAC secret):
 *  - Uint8Array / Buffer               -> DER key when it parses as one (see below), else an HMAC secret (raw bytes)
 *  - object                            -> JWKS ("keys" array) or JWK ("kty"; "oct" JWKs are HMAC secrets)
 *  - string, trimmed, in this order:
 *      JSON text of a string ("...")   -> unquoted, then classified again
 *      starts with "-----BEGIN"        -> PEM: public key, private key or X.509 certificate
 *      contains "-----BEGIN" later     -> refused
 *      starts with "{"                 -> JSON: JWKS or JWK (invalid JSON is refused)
 *      a JSON array                    -> refused (a JWKS is {"keys": [...]})
 *      base64 / base64url DER          -> SPKI, PKCS#8, X.509 certificate (or PKCS#1 / SEC1)
 *      anything else                   -> ambiguous: an HMAC secret only when the algorithm is
 *                                         HS* by configuration (jwt_sign `algorithm`, or jwt_verify
 *                                         `allowed_algorithms` listing only HS*); otherwise an error
 *
 * The algorithm is bound to the key type: HS* only with HMAC secrets (never a
 * PEM, DER, RSA/EC/OKP JWK or JWKS entry), RS* and PS* only with RSA keys, ES256/384/512
 * only with P-256/P-384/P-521 keys, EdDSA only with Ed25519 keys (Ed448 is
 * missing from jose 6 and is refused with a clear error). A JWK's "alg", when
 * present, must be the token's algorithm.
 * `alg: none` never verifies and cannot be used to sign.
 * Errors from jwtSign / jwtVerify / jwtDecode start with the node type ("jwt_verify: ...").
 */
import { constants, createHmac, createPrivateKey, createPublicKey, timingSafeEqual, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export class JwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

export const SUPPORTED_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

const isSupported = (a: unknown): a is JwtAlgorithm => typeof a === 'string' && (SUPPORTED_ALGORITHMS as readonly string[]).includes(a);

/** Longest accepted token (characters), so hostile input cannot cost much. */
export const MAX_TOKEN_LENGTH = 64 * 1024;

// ---------------------------------------------------------------------------
// decode

const B64URL = /^[A-Za-z0-9_-]*$/;

function stripBearer(token: unknown): string {
  if (typeof token !== 'string') throw new JwtError(`invalid token: expected a string, got ${token === null ? 'null' : typeof token}`);
  let t = token.trim();
  const m = /^bearer(\s+|$)/i.exec(t);
  if (m) t = t.slice(m[0].length).trim();
  if (t === '') throw new JwtError('invalid token: empty');
  if (t.length > MAX_TOKEN_LENGTH) throw new JwtError(`invalid token: longer than ${MAX_TOKEN_LENGTH} characters`);
  return t;
}

function b64urlJson(segment: string, what: 'header' | 'payload'): unknown {
  if (!B64URL.test(segment)) throw new JwtError(`invalid token: ${what} is not base64url`);
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    if (what === 'payload') return undefined;
    throw new JwtError(`invalid token: ${what} is not valid JSON`);
  }
}

interface Decoded {
  token: string;
  header: Record<string, unknown>;
  payload: unknown;
  payloadRaw: string;
  signature: string;
}

function decodeParts(token: unknown): Decoded {
  const t = stripBearer(token);
  const parts = t.split('.');
  if (parts.length !== 3) throw new JwtError(`invalid token: expected 3 segments separated by ".", got ${parts.length}`);
  const [h, p, s] = parts;
  if (h === '') throw new JwtError('invalid token: empty header');
  const header = b64urlJson(h, 'header');
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new JwtError('invalid token: header is not a JSON object');
  }
  if (!B64URL.test(s)) throw new JwtError('invalid token: signature is not base64url');
  let payload = b64urlJson(p, 'payload');
  const payloadRaw = Buffer.from(p, 'base64url').toString('utf8');
  if (payload === undefined) payload = payloadRaw; // non-JSON JWS payload: returned as text
  return { token: t, header: header as Record<string, unknown>, payload, payloadRaw, signature: s };
}

export function jwtDecode(token: string): { header: Record<string, unknown>; payload: unknown; signature: string } {
  try {
    const d = decodeParts(token);
    return { header: d.header, payload: d.payload, signature: d.signature };
  } catch (e) {
    throw named('jwt_decode', e);
  }
}

/** Errors name the node type: "jwt_verify: invalid signature". */
function named(node: 'jwt_decode' | 'jwt_sign' | 'jwt_verify', e: unknown): unknown {
  return e instanceof JwtError ? new JwtError(`${node}: ${e.message}`) : e;
}

// ---------------------------------------------------------------------------
// keys

type KeyFamily = 'oct' | 'RSA' | 'EC' | 'OKP';

interface ResolvedKey {
  family: KeyFamily;
  secret?: Uint8Array;
  key?: KeyObject;
  /** EC curve (P-256...) or OKP subtype (Ed25519...) */
  curve?: string;
  kid?: string;
  alg?: string;
  use?: string;
  isPrivate: boolean;
  fromSet: boolean;
  /**
   * A string that is not a PEM, JSON or DER key: usable as an HMAC secret
   * only when the configuration says HS* (never by the token's header).
   */
  guessed?: boolean;
  /** imported WebCrypto HMAC keys, per algorithm (secrets are re-used across calls via the key cache) */
  hmac?: Map<string, CryptoKey>;
}

const HASH_FOR_HS: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/** The key material handed to jose: a cached CryptoKey for HMAC, a KeyObject otherwise. */
async function joseKey(k: ResolvedKey, alg: string, usage: 'sign' | 'verify'): Promise<CryptoKey | KeyObject | Uint8Array> {
  if (k.secret === undefined) return k.key as KeyObject;
  k.hmac ??= new Map();
  const id = `${alg}:${usage}`;
  let ck = k.hmac.get(id);
  if (!ck) {
    ck = await globalThis.crypto.subtle.importKey('raw', k.secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: HASH_FOR_HS[alg] }, false, [usage]);
    k.hmac.set(id, ck);
  }
  return ck;
}

const CURVE_FOR_ALG: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const NODE_CURVE: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'secp256k1' };

function describeKeyObject(k: KeyObject): { family: KeyFamily; curve?: string } {
  const t = k.asymmetricKeyType;
  switch (t) {
    case 'rsa':
    case 'rsa-pss':
      return { family: 'RSA' };
    case 'ec': {
      const c = k.asymmetricKeyDetails?.namedCurve;
      return { family: 'EC', curve: c ? (NODE_CURVE[c] ?? c) : undefined };
    }
    case 'ed25519':
      return { family: 'OKP', curve: 'Ed25519' };
    case 'ed448':
      return { family: 'OKP', curve: 'Ed448' };
    default:
      throw new JwtError(`unsupported key type: ${t ?? 'unknown'}`);
  }
}

function fromKeyObject(k: KeyObject, extra: Partial<ResolvedKey> = {}): ResolvedKey {
  return { ...describeKeyObject(k), key: k, isPrivate: k.type === 'private', fromSet: false, ...extra };
}

function parsePem(text: string, purpose: 'sign' | 'verify'): ResolvedKey {
  // PEM kept in env vars / JSON often carries literal "\n" escapes or CRLF line ends
  const pem = text.replace(/\\r\\n|\\n|\r\n/g, '\n');
  try {
    if (/-----BEGIN CERTIFICATE-----/.test(pem)) {
      if (purpose === 'sign') throw new JwtError('a certificate cannot be used to sign; a private key is required');
      return fromKeyObject(new X509Certificate(pem).publicKey);
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      const priv = createPrivateKey({ key: pem, format: 'pem' });
      return purpose === 'sign' ? fromKeyObject(priv) : fromKeyObject(createPublicKey(priv));
    }
    if (/-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(pem)) {
      const pub = createPublicKey({ key: pem, format: 'pem' });
      return fromKeyObject(pub);
    }
  } catch (e) {
    if (e instanceof JwtError) throw e;
    throw new JwtError(`invalid PEM key: ${(e as Error).message}`);
  }
  throw new JwtError('invalid PEM key: expected a PUBLIC KEY, PRIVATE KEY or CERTIFICATE block');
}

function parseJwk(jwk: Record<string, unknown>, purpose: 'sign' | 'verify', fromSet: boolean): ResolvedKey {
  const meta = {
    kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
    alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
    use: typeof jwk.use === 'string' ? jwk.use : undefined,
    fromSet,
  };
  const kty = jwk.kty;
  if (kty === 'oct') {
    if (typeof jwk.k !== 'string' || !B64URL.test(jwk.k)) throw new JwtError('invalid JWK: "oct" key without a base64url "k"');
    return { family: 'oct', secret: new Uint8Array(Buffer.from(jwk.k, 'base64url')), isPrivate: true, ...meta };
  }
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') throw new JwtError(`invalid JWK: unsupported kty ${JSON.stringify(kty)}`);
  try {
    const hasPrivate = typeof jwk.d === 'string';
    // node's JWK import ignores metadata members; pass only key material
    const material = Object.fromEntries(
      Object.entries(jwk).filter(([k]) => ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'crv', 'x', 'y'].includes(k)),
    ) as import('node:crypto').JsonWebKey;
    if (purpose === 'sign') {
      if (!hasPrivate) throw new JwtError('a private key is required to sign (the JWK has no "d")');
      return fromKeyObject(createPrivateKey({ key: material, format: 'jwk' }), meta);
    }
    const pub = hasPrivate ? createPublicKey(createPrivateKey({ key: material, format: 'jwk' })) : createPublicKey({ key: material, format: 'jwk' });
    return fromKeyObject(pub, meta);
  } catch (e) {
    if (e instanceof JwtError) throw e;
    throw new JwtError(`invalid JWK: ${(e as Error).message}`);
  }
}

/** Parsed string keys (PEM / JSON / DER / secret, or the error they gave), bounded; a flow usually uses one or two keys. */
const keyCache = new Map<string, ResolvedKey[] | JwtError>();
const KEY_CACHE_MAX = 64;

function parseKeys(key: unknown, purpose: 'sign' | 'verify'): ResolvedKey[] {
  if (typeof key !== 'string') return parseKeysUncached(key, purpose);
  const id = `${purpose}\u0000${key}`;
  let parsed = keyCache.get(id);
  if (parsed === undefined) {
    try {
      parsed = parseKeysUncached(key, purpose);
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      parsed = e;
    }
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(id, parsed);
  }
  if (parsed instanceof JwtError) throw new JwtError(parsed.message);
  return parsed;
}

/** The start of the error for a string that is no key we can recognize. */
export const AMBIGUOUS_KEY = 'key is not a PEM, JWK or DER key';
const HS_LIST = 'HS256/HS384/HS512';

function parseKeysUncached(key: unknown, purpose: 'sign' | 'verify'): ResolvedKey[] {
  if (key === null || key === undefined) throw new JwtError('no key given');
  if (key instanceof Uint8Array) {
    if (key.length === 0) throw new JwtError('empty HMAC secret');
    const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    // bytes holding PEM text, or a DER key, are that key, never a secret
    if (bytes.includes('-----BEGIN')) return parseKeyString(bytes.toString('utf8'), purpose, 0);
    const der = derKey(bytes, purpose, 'bytes');
    if (der) return [der];
    return [{ family: 'oct', secret: key, isPrivate: true, fromSet: false }];
  }
  if (typeof key === 'string') return parseKeyString(key, purpose, 0);
  if (typeof key !== 'object' || Array.isArray(key)) throw new JwtError(`unsupported key of type ${Array.isArray(key) ? 'array' : typeof key}`);
  return parseKeyObject(key as Record<string, unknown>, purpose);
}

function parseKeyString(text: string, purpose: 'sign' | 'verify', depth: number): ResolvedKey[] {
  const t = text.trim();
  if (t === '') throw new JwtError('key is empty');
  if (t.startsWith('"')) {
    // JSON text of a string, e.g. a JSON-quoted PEM: unquote, then classify what it holds
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      v = undefined;
    }
    if (typeof v === 'string') {
      if (depth >= 2) throw new JwtError('key is quoted JSON text more than twice');
      return parseKeyString(v, purpose, depth + 1);
    }
  }
  if (t.startsWith('-----BEGIN')) return [parsePem(t, purpose)];
  if (t.includes('-----BEGIN')) throw new JwtError('key has text before its "-----BEGIN" line; pass the PEM block alone');
  if (t.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch {
      throw new JwtError('key starts with "{" but is not valid JSON (expected a JWK or a JWKS)');
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new JwtError('key starts with "{" but is not a JSON object');
    return parseKeyObject(obj as Record<string, unknown>, purpose);
  }
  if (t.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(t);
    } catch {
      arr = undefined;
    }
    if (Array.isArray(arr)) throw new JwtError('key is a JSON array; a JWKS is an object {"keys": [...]}');
  }
  const der = derKey(t, purpose, 'text');
  if (der) return [der];
  // not a key we can recognize: a secret only if the configuration says HS* (checked by the caller)
  return [{ family: 'oct', secret: new TextEncoder().encode(text), isPrivate: true, fromSet: false, guessed: true }];
}

function parseKeyObject(o: Record<string, unknown>, purpose: 'sign' | 'verify'): ResolvedKey[] {
  if (Array.isArray(o.keys)) {
    const out: ResolvedKey[] = [];
    const errors: string[] = [];
    for (const k of o.keys) {
      if (typeof k !== 'object' || k === null) continue;
      try {
        out.push(parseJwk(k as Record<string, unknown>, purpose, true));
      } catch (e) {
        errors.push((e as Error).message); // skip unusable entries, as JWKS consumers do
      }
    }
    if (out.length === 0) throw new JwtError(`JWKS has no usable key${errors.length ? ` (${errors[0]})` : ''}`);
    return out;
  }
  if (typeof o.kty === 'string') return [parseJwk(o, purpose, false)];
  throw new JwtError('unsupported key: expected a PEM string, a JWK, a JWKS or an HMAC secret');
}

// ---------------------------------------------------------------------------
// DER keys given as base64 / base64url text (identity providers' "public_key") or bytes

const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** One DER TLV at `off`: its tag and content range, or null when malformed. */
function derTlv(b: Buffer, off: number, limit: number): { tag: number; start: number; end: number } | null {
  if (off + 2 > limit) return null;
  const tag = b[off];
  if ((tag & 0x1f) === 0x1f) return null; // multi-byte tags do not occur in key structures
  let len = b[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return null; // indefinite or absurd lengths are not DER
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i];
    p += n;
  }
  if (p + len > limit) return null;
  return { tag, start: p, end: p + len };
}

/** A SEQUENCE spanning exactly the whole buffer, made of at least two well-formed elements. */
function looksLikeDer(b: Buffer): boolean {
  const outer = derTlv(b, 0, b.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== b.length) return false;
  let n = 0;
  for (let p = outer.start; p < outer.end; n++) {
    const c = derTlv(b, p, outer.end);
    if (!c) return false;
    p = c.end;
  }
  return n >= 2;
}

/**
 * A DER key (SPKI, X.509 certificate, PKCS#8, PKCS#1, SEC1), from base64 text
 * or bytes; null when the input is not DER at all. DER that is no usable key
 * is an error: such input is never an HMAC secret.
 */
function derKey(input: string | Buffer, purpose: 'sign' | 'verify', form: 'text' | 'bytes'): ResolvedKey | null {
  let der: Buffer;
  if (typeof input === 'string') {
    const compact = input.replace(/\s+/g, '');
    if (compact.length < 16 || !BASE64_TEXT.test(compact)) return null;
    der = Buffer.from(compact, 'base64'); // node reads both alphabets
  } else der = input;
  if (!looksLikeDer(der)) return null;
  const what = form === 'text' ? 'key is base64 DER' : 'key bytes are DER';
  const attempts: [string, () => ResolvedKey][] = [
    ['spki', () => fromKeyObject(createPublicKey({ key: der, format: 'der', type: 'spki' }))],
    [
      'x509',
      () => {
        const cert = new X509Certificate(der);
        if (purpose === 'sign') throw new JwtError('a certificate cannot be used to sign; a private key is required');
        return fromKeyObject(cert.publicKey);
      },
    ],
    ['pkcs8', () => privateOrPublic(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), purpose)],
    ['pkcs1', () => privateOrPublic(createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }), purpose)],
    ['sec1', () => privateOrPublic(createPrivateKey({ key: der, format: 'der', type: 'sec1' }), purpose)],
    ['pkcs1', () => fromKeyObject(createPublicKey({ key: der, format: 'der', type: 'pkcs1' }))],
  ];
  for (const [, attempt] of attempts) {
    let parsed: ResolvedKey | undefined;
    try {
      parsed = attempt();
    } catch (e) {
      if (e instanceof JwtError) throw new JwtError(`${what}: ${e.message}`); // it is that key, and unusable
      continue;
    }
    return parsed;
  }
  throw new JwtError(`${what} data but not an SPKI, PKCS#8 or X.509 certificate key (never used as an HMAC secret)`);
}

function privateOrPublic(priv: KeyObject, purpose: 'sign' | 'verify'): ResolvedKey {
  return purpose === 'sign' ? fromKeyObject(priv) : fromKeyObject(createPublicKey(priv));
}

/** The key-type binding rule: may `alg` be used with key `k`? */
const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/**
 * Checks a JWS signature synchronously with node:crypto (jose's WebCrypto
 * path costs ~10x more per token). The key was already bound to the
 * algorithm by fits(); RSA keys must have at least 2048 bits, as in jose.
 */
function signatureValid(alg: JwtAlgorithm, k: ResolvedKey, data: Buffer, signature: Buffer): boolean {
  try {
    if (alg.startsWith('HS')) {
      const mac = createHmac(DIGEST[alg.slice(2)], k.secret as Uint8Array).update(data).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    }
    const key = k.key as KeyObject;
    if (alg === 'EdDSA') return verifySignature(null, data, key, signature);
    const digest = DIGEST[alg.slice(2)];
    if (alg.startsWith('RS') || alg.startsWith('PS')) {
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return false;
      const padding = alg.startsWith('RS')
        ? { padding: constants.RSA_PKCS1_PADDING }
        : { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
      return verifySignature(digest, data, { key, ...padding }, signature);
    }
    if (alg.startsWith('ES')) return verifySignature(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return false;
  } catch {
    return false;
  }
}

function fits(alg: JwtAlgorithm, k: ResolvedKey): boolean {
  if (k.alg !== undefined && k.alg !== alg) return false;
  if (alg.startsWith('HS')) return k.family === 'oct' && k.secret !== undefined;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return k.family === 'RSA';
  if (alg.startsWith('ES')) return k.family === 'EC' && k.curve === CURVE_FOR_ALG[alg];
  // jose 6 implements EdDSA for Ed25519 only
  if (alg === 'EdDSA') return k.family === 'OKP' && k.curve === 'Ed25519';
  return false;
}

function keyDescription(k: ResolvedKey): string {
  if (k.family === 'oct') return 'an HMAC secret';
  if (k.family === 'EC') return `an EC ${k.curve ?? ''} key`.replace(/\s+key/, ' key');
  if (k.family === 'OKP') return `an ${k.curve ?? 'OKP'} key`;
  return 'an RSA key';
}

// ---------------------------------------------------------------------------
// sign

export interface JwtSignOptions {
  algorithm?: string /* default HS256 */;
  expires_in?: number /* seconds, default 300 */;
  not_before?: number /* seconds, default 0 */;
  kid?: string;
  typ?: string /* default JWT */;
  static_claims?: Record<string, unknown>;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function jwtSign(
  claims: Record<string, unknown> | null,
  key: unknown,
  options: JwtSignOptions,
): Promise<{ token: string; claims: Record<string, unknown>; header: Record<string, unknown> }> {
  try {
    return await sign(claims, key, options);
  } catch (e) {
    throw named('jwt_sign', e);
  }
}

/** The JWK "alg" member disagrees with the algorithm: the JWK refuses it. */
function jwkAlgMismatch(k: ResolvedKey, alg: string, what: string): JwtError | undefined {
  if (k.alg === undefined || k.alg === alg) return undefined;
  return new JwtError(`the JWK's "alg" is ${k.alg}, so it cannot be used with ${what} ${alg}`);
}

async function sign(
  claims: Record<string, unknown> | null,
  key: unknown,
  options: JwtSignOptions,
): Promise<{ token: string; claims: Record<string, unknown>; header: Record<string, unknown> }> {
  const opts = options ?? {};
  const errs = validateJwtSignOptions(opts);
  if (errs.length) throw new JwtError(errs.join('; '));
  if (claims !== null && claims !== undefined && (typeof claims !== 'object' || Array.isArray(claims))) {
    throw new JwtError('claims must be a JSON object');
  }
  const alg = (opts.algorithm ?? 'HS256') as JwtAlgorithm;
  const keys = parseKeys(key, 'sign');
  if (keys.length === 1 && keys[0].guessed && !alg.startsWith('HS')) {
    throw new JwtError(`${AMBIGUOUS_KEY}; algorithm ${alg} needs a private key (PEM, JWK or DER), only ${HS_LIST} take an HMAC secret`);
  }
  let candidates = keys.filter((k) => fits(alg, k));
  if (opts.kid !== undefined && keys.some((k) => k.fromSet)) {
    candidates = candidates.filter((k) => k.kid === opts.kid);
  }
  const k = candidates[0];
  if (!k) {
    if (keys.length === 1) throw jwkAlgMismatch(keys[0], alg, 'algorithm') ?? new JwtError(`algorithm ${alg} cannot be used with ${keyDescription(keys[0])}`);
    throw new JwtError(`no key in the JWKS fits algorithm ${alg}${opts.kid !== undefined ? ` and kid "${opts.kid}"` : ''}`);
  }
  if (k.family !== 'oct' && !k.isPrivate) throw new JwtError(`a private key is required to sign with ${alg}`);

  // precedence: input claims < static_claims < generated registered claims
  const iat = nowSeconds();
  const final: Record<string, unknown> = { ...(claims ?? {}), ...(opts.static_claims ?? {}) };
  final.iat = iat;
  const expiresIn = opts.expires_in ?? 300;
  if (expiresIn > 0) final.exp = iat + expiresIn;
  const notBefore = opts.not_before ?? 0;
  if (notBefore > 0) final.nbf = iat + notBefore;

  const header: Record<string, unknown> = { alg, typ: opts.typ ?? 'JWT' };
  const kid = opts.kid ?? k.kid;
  if (kid !== undefined) header.kid = kid;

  try {
    const token = await new SignJWT(final)
      .setProtectedHeader(header as { alg: string })
      .sign(await joseKey(k, alg, 'sign'));
    return { token, claims: final, header };
  } catch (e) {
    throw new JwtError(`signing failed: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// verify

export interface JwtVerifyOptions {
  allowed_algorithms?: string[];
  issuers?: string[];
  audiences?: string[];
  required_claims?: string[];
  leeway?: number /* seconds */;
  validate_exp?: boolean /* default true */;
  validate_nbf?: boolean /* default true */;
}

function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new JwtError(`invalid "${name}" claim: must be a number`);
  return v;
}

export async function jwtVerify(
  token: string,
  key: unknown,
  options: JwtVerifyOptions,
): Promise<{ claims: Record<string, unknown>; header: Record<string, unknown> }> {
  try {
    return verify(token, key, options);
  } catch (e) {
    throw named('jwt_verify', e);
  }
}

function verify(token: string, key: unknown, options: JwtVerifyOptions): { claims: Record<string, unknown>; header: Record<string, unknown> } {
  const opts = options ?? {};
  const errs = validateJwtVerifyOptions(opts);
  if (errs.length) throw new JwtError(errs.join('; '));

  const d = decodeParts(token);
  const alg = d.header.alg;
  if (alg === undefined) throw new JwtError('invalid token: header has no "alg"');
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') throw new JwtError('unsecured tokens (alg "none") are not accepted');
  if (!isSupported(alg)) throw new JwtError(`unsupported algorithm ${JSON.stringify(alg)}`);
  if (opts.allowed_algorithms && opts.allowed_algorithms.length > 0 && !opts.allowed_algorithms.includes(alg)) {
    throw new JwtError(`algorithm ${alg} is not allowed`);
  }
  if (d.header.crit !== undefined) throw new JwtError('unsupported "crit" header');

  const parsed = parseKeys(key, 'verify');
  if (parsed.length === 1 && parsed[0].guessed) {
    // a string that is no recognizable key is an HMAC secret only by configuration, never by the token's header
    const allowed = opts.allowed_algorithms ?? [];
    if (allowed.length === 0) throw new JwtError(`${AMBIGUOUS_KEY}; set allowed_algorithms to ${HS_LIST} to use it as an HMAC secret`);
    const others = allowed.filter((a) => !a.startsWith('HS'));
    if (others.length > 0) {
      throw new JwtError(`${AMBIGUOUS_KEY}; allowed_algorithms must list only ${HS_LIST} to use it as an HMAC secret (it also lists ${others.join(', ')})`);
    }
  }
  const keys = parsed.filter((k) => k.use === undefined || k.use === 'sig');
  const kid = typeof d.header.kid === 'string' ? d.header.kid : undefined;
  let candidates = keys;
  if (kid !== undefined && parsed.some((k) => k.fromSet)) {
    // JWKS + kid: only the key(s) with that kid
    candidates = keys.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw new JwtError(`no key found for kid "${kid}"`);
  }
  const fitting = candidates.filter((k) => fits(alg, k));
  if (fitting.length === 0) {
    if (candidates.length === 1) {
      throw jwkAlgMismatch(candidates[0], alg, 'a token signed with') ?? new JwtError(`algorithm ${alg} cannot be used with ${keyDescription(candidates[0])}`);
    }
    throw new JwtError(`no key fits algorithm ${alg}`);
  }

  const dot = d.token.lastIndexOf('.');
  const signingInput = Buffer.from(d.token.slice(0, dot));
  const segment = d.token.slice(dot + 1);
  const signature = Buffer.from(segment, 'base64url');
  // only the canonical base64url form of a signature is accepted
  if (signature.toString('base64url') !== segment) throw new JwtError('invalid signature');
  if (!fitting.some((k) => signatureValid(alg, k, signingInput, signature))) throw new JwtError('invalid signature');

  const claims = d.payload;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new JwtError('invalid token: claims are not a JSON object');
  }
  const c = claims as Record<string, unknown>;

  for (const name of opts.required_claims ?? []) {
    if (c[name] === undefined || c[name] === null) throw new JwtError(`missing required claim "${name}"`);
  }

  const now = nowSeconds();
  const leeway = opts.leeway ?? 0;
  const exp = numericClaim(c, 'exp');
  const nbf = numericClaim(c, 'nbf');
  const iat = numericClaim(c, 'iat');
  if (opts.validate_exp !== false && exp !== undefined && now >= exp + leeway) throw new JwtError('token expired');
  if (opts.validate_nbf !== false && nbf !== undefined && now + leeway < nbf) throw new JwtError('token not valid yet (nbf)');
  if (iat !== undefined && iat > now + leeway) throw new JwtError('token issued in the future (iat)');

  if (opts.issuers && opts.issuers.length > 0) {
    if (typeof c.iss !== 'string' || !opts.issuers.includes(c.iss)) throw new JwtError('issuer not allowed');
  }
  if (opts.audiences && opts.audiences.length > 0) {
    const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
    if (!aud.some((a) => typeof a === 'string' && opts.audiences!.includes(a))) throw new JwtError('audience not allowed');
  }
  return { claims: c, header: d.header };
}

// ---------------------------------------------------------------------------
// config-time validation

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isNil = (v: unknown) => v === undefined || v === null;

function stringList(o: Record<string, unknown>, k: string, errs: string[]): void {
  const v = o[k];
  if (isNil(v)) return;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) errs.push(`${k} must be an array of non-empty strings`);
}

export function validateJwtSignOptions(o: unknown): string[] {
  if (isNil(o)) return [];
  if (!isObj(o)) return ['jwt_sign options must be an object'];
  const errs: string[] = [];
  const known = ['algorithm', 'expires_in', 'not_before', 'kid', 'typ', 'static_claims'];
  for (const k of Object.keys(o)) if (!known.includes(k)) errs.push(`${k}: unknown field`);
  if (!isNil(o.algorithm) && !isSupported(o.algorithm)) errs.push(`algorithm must be one of: ${SUPPORTED_ALGORITHMS.join(', ')}`);
  for (const k of ['expires_in', 'not_before']) {
    const v = o[k];
    if (!isNil(v) && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) errs.push(`${k} must be a non-negative integer (seconds)`);
  }
  for (const k of ['kid', 'typ']) if (!isNil(o[k]) && (typeof o[k] !== 'string' || o[k] === '')) errs.push(`${k} must be a non-empty string`);
  if (!isNil(o.static_claims) && !isObj(o.static_claims)) errs.push('static_claims must be an object');
  else if (isObj(o.static_claims)) {
    // Kong's schema: a map of strings
    for (const [k, v] of Object.entries(o.static_claims)) if (typeof v !== 'string') errs.push(`static_claims.${k}: expected a string`);
  }
  return errs;
}

export function validateJwtVerifyOptions(o: unknown): string[] {
  if (isNil(o)) return [];
  if (!isObj(o)) return ['jwt_verify options must be an object'];
  const errs: string[] = [];
  const known = ['allowed_algorithms', 'issuers', 'audiences', 'required_claims', 'leeway', 'validate_exp', 'validate_nbf'];
  for (const k of Object.keys(o)) if (!known.includes(k)) errs.push(`${k}: unknown field`);
  if (!isNil(o.allowed_algorithms)) {
    const a = o.allowed_algorithms;
    if (!Array.isArray(a)) errs.push('allowed_algorithms must be an array');
    else
      for (const x of a) {
        if (!isSupported(x)) errs.push(`allowed_algorithms: unknown algorithm ${JSON.stringify(x)} (expected one of: ${SUPPORTED_ALGORITHMS.join(', ')})`);
      }
  }
  stringList(o, 'issuers', errs);
  stringList(o, 'audiences', errs);
  stringList(o, 'required_claims', errs);
  if (!isNil(o.leeway) && (typeof o.leeway !== 'number' || !Number.isFinite(o.leeway) || o.leeway < 0))
    errs.push('leeway must be a non-negative number (seconds)');
  for (const k of ['validate_exp', 'validate_nbf']) if (!isNil(o[k]) && typeof o[k] !== 'boolean') errs.push(`${k} must be a boolean`);
  return errs;
}
