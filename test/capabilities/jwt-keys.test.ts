// JWT key confusion (issue "Hardening" item 6, the CVE-2026-14916 class): a
// key is never guessed into an HMAC secret. Public keys in the forms identity
// providers publish them (base64 DER SPKI, certificates, JSON-quoted PEM...)
// are recognized as what they are, and an HS* token signed with their text as
// the HMAC secret never verifies.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datakit } from '../../host/index.js';
import { JwtError, jwtSign, jwtVerify } from '../../host/capabilities/jwt.js';
import { bodyJson, memoryLogger, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** An HS* token signed by hand with `secret`: what an attacker who knows the public key text sends. */
function forge(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer, claims: Record<string, unknown> = { sub: 'admin', exp: now() + 600 }): string {
  const input = `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return `${input}.${createHmac(digest, secret).update(input).digest('base64url')}`;
}

/** An explicit HMAC key (an "oct" JWK) holding the same text: the control showing a forgery is well signed. */
const octOf = (secret: string | Buffer) => ({ kty: 'oct', k: Buffer.from(secret).toString('base64url') });

const pemOf = (k: KeyObject) => k.export({ format: 'pem', type: k.type === 'private' ? 'pkcs8' : 'spki' }).toString();
const derOf = (k: KeyObject) => k.export({ format: 'der', type: k.type === 'private' ? 'pkcs8' : 'spki' });
const wrap64 = (s: string) => s.replace(/.{1,64}/g, '$&\n');

/** A self-signed X.509 certificate for `priv`, made by openssl (Debian ships /usr/bin/openssl). */
function selfSignedCert(priv: KeyObject): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'jwtkeys-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.der');
    writeFileSync(keyFile, pemOf(priv));
    execFileSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-subj', '/CN=jwt-keys-test', '-days', '1', '-outform', 'DER', '-out', certFile], {
      stdio: 'ignore',
    });
    return readFileSync(certFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Kind {
  name: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  /** how the key type is named in "algorithm HS256 cannot be used with ..." */
  desc: string;
  priv: KeyObject;
  pub: KeyObject;
  cert: Buffer;
}
const kinds: Kind[] = [];

beforeAll(() => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ed = generateKeyPairSync('ed25519');
  for (const [name, alg, desc, p] of [
    ['RSA', 'RS256', 'an RSA key', rsa],
    ['EC P-256', 'ES256', 'an EC P-256 key', ec],
    ['Ed25519', 'EdDSA', 'an Ed25519 key', ed],
  ] as const) {
    kinds.push({ name, alg, desc, priv: p.privateKey, pub: p.publicKey, cert: selfSignedCert(p.privateKey) });
  }
});

/** Every form a verification key may arrive in, as text (or bytes) handed to jwt_verify. */
function forms(k: Kind): [string, string | Buffer][] {
  const spki = derOf(k.pub);
  const pkcs8 = derOf(k.priv);
  const certPem = `-----BEGIN CERTIFICATE-----\n${wrap64(k.cert.toString('base64'))}-----END CERTIFICATE-----\n`;
  return [
    ['PEM SPKI', pemOf(k.pub)],
    ['PEM certificate', certPem],
    ['PEM PKCS#8 private key', pemOf(k.priv)],
    ['base64 DER SPKI (Keycloak public_key)', spki.toString('base64')],
    ['base64url DER SPKI', spki.toString('base64url')],
    ['base64 DER SPKI in 64-column lines', wrap64(spki.toString('base64'))],
    ['base64 DER PKCS#8 private key', pkcs8.toString('base64')],
    ['base64 DER X.509 certificate', k.cert.toString('base64')],
    ['JSON-quoted PEM SPKI', JSON.stringify(pemOf(k.pub))],
    ['JSON-quoted PEM certificate', JSON.stringify(certPem)],
    ['JSON-quoted base64 DER SPKI', JSON.stringify(spki.toString('base64'))],
    ['twice JSON-quoted PEM SPKI', JSON.stringify(JSON.stringify(pemOf(k.pub)))],
    ['PEM with literal \\n escapes (env var)', pemOf(k.pub).replace(/\n/g, '\\n')],
    ['DER SPKI bytes', spki],
    ['PEM SPKI bytes', Buffer.from(pemOf(k.pub))],
  ];
}

describe('public keys in every form: genuine tokens verify, forged HS* tokens never do', () => {
  for (const kindName of ['RSA', 'EC P-256', 'Ed25519']) {
    it(`${kindName}: HS256/384/512 tokens signed with the key text are refused in every form`, async () => {
      const k = kinds.find((x) => x.name === kindName)!;
      for (const [form, key] of forms(k)) {
        // the forgery: the public text (exactly as given) is the HMAC secret
        for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
          const forged = forge(alg, key);
          // control: the forged token is correctly signed for an explicit secret of that text
          expect((await jwtVerify(forged, octOf(key), {})).claims.sub, form).toBe('admin');
          await expect(jwtVerify(forged, key, {}), `${form} ${alg}`).rejects.toThrow(`jwt_verify: algorithm ${alg} cannot be used with ${k.desc}`);
          // an asymmetric key is never an HMAC secret, whatever allowed_algorithms says
          await expect(jwtVerify(forged, key, { allowed_algorithms: [alg] }), `${form} ${alg} allowed`).rejects.toThrow(
            `jwt_verify: algorithm ${alg} cannot be used with ${k.desc}`,
          );
        }
        // nor with the trimmed text, or the inner text of a quoted form
        if (typeof key === 'string') {
          for (const inner of [key.trim(), key.startsWith('"') ? (JSON.parse(key) as string) : key]) {
            await expect(jwtVerify(forge('HS256', inner), key, {}), form).rejects.toThrow(/cannot be used with/);
          }
        }
      }
    });

    it(`${kindName}: genuine ${kindName === 'RSA' ? 'RS256' : kindName === 'Ed25519' ? 'EdDSA' : 'ES256'} tokens verify in every form`, async () => {
      const k = kinds.find((x) => x.name === kindName)!;
      const genuine = await jwtSign({ sub: 'alice' }, pemOf(k.priv), { algorithm: k.alg });
      for (const [form, key] of forms(k)) {
        expect((await jwtVerify(genuine.token, key, {})).claims.sub, form).toBe('alice');
        expect((await jwtVerify(genuine.token, key, { allowed_algorithms: [k.alg] })).claims.sub, form).toBe('alice');
      }
    });
  }

  it('a token for another key of the same type fails the signature in the DER forms', async () => {
    for (const k of kinds) {
      const other = k.name === 'RSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : k.name === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const t = await jwtSign({ sub: 'mallory' }, pemOf(other.privateKey), { algorithm: k.alg });
      for (const key of [derOf(k.pub).toString('base64'), k.cert.toString('base64'), JSON.stringify(pemOf(k.pub))]) {
        await expect(jwtVerify(t.token, key, {})).rejects.toThrow('jwt_verify: invalid signature');
      }
    }
  });

  it('PKCS#1 and SEC1 DER keys are recognized too; forged tokens against them are refused', async () => {
    const [rsa, ec] = kinds;
    const rsaPub1 = rsa.pub.export({ format: 'der', type: 'pkcs1' }).toString('base64');
    const rsaPriv1 = rsa.priv.export({ format: 'der', type: 'pkcs1' }).toString('base64');
    const ecPriv1 = ec.priv.export({ format: 'der', type: 'sec1' }).toString('base64');
    const rs = await jwtSign({ sub: 'r' }, rsaPriv1, { algorithm: 'RS256' });
    expect((await jwtVerify(rs.token, rsaPub1, {})).claims.sub).toBe('r');
    expect((await jwtVerify(rs.token, rsaPriv1, {})).claims.sub).toBe('r');
    const es = await jwtSign({ sub: 'e' }, ecPriv1, { algorithm: 'ES256' });
    expect((await jwtVerify(es.token, ecPriv1, {})).claims.sub).toBe('e');
    for (const [key, desc] of [
      [rsaPub1, 'an RSA key'],
      [rsaPriv1, 'an RSA key'],
      [ecPriv1, 'an EC P-256 key'],
    ] as const) {
      await expect(jwtVerify(forge('HS256', key), key, { allowed_algorithms: ['HS256'] })).rejects.toThrow(`jwt_verify: algorithm HS256 cannot be used with ${desc}`);
    }
  });

  it('the algorithm must fit the DER key: RS256 token against an EC certificate, ES256 against RSA SPKI', async () => {
    const [rsa, ec, ed] = kinds;
    const rs = await jwtSign({}, pemOf(rsa.priv), { algorithm: 'RS256' });
    await expect(jwtVerify(rs.token, ec.cert.toString('base64'), {})).rejects.toThrow('jwt_verify: algorithm RS256 cannot be used with an EC P-256 key');
    const es = await jwtSign({}, pemOf(ec.priv), { algorithm: 'ES256' });
    await expect(jwtVerify(es.token, derOf(rsa.pub).toString('base64'), {})).rejects.toThrow('jwt_verify: algorithm ES256 cannot be used with an RSA key');
    await expect(jwtVerify(es.token, derOf(ed.pub).toString('base64url'), {})).rejects.toThrow('jwt_verify: algorithm ES256 cannot be used with an Ed25519 key');
    // ES384 on a P-256 DER key
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const es384 = await jwtSign({}, pemOf(p384.privateKey), { algorithm: 'ES384' });
    await expect(jwtVerify(es384.token, derOf(ec.pub).toString('base64'), {})).rejects.toThrow('jwt_verify: algorithm ES384 cannot be used with an EC P-256 key');
  });
});

describe('jwt_sign: the algorithm is explicit and the key must fit it', () => {
  it('signs with a base64 DER PKCS#8 private key (and a quoted one); the token verifies', async () => {
    for (const k of kinds) {
      for (const key of [derOf(k.priv).toString('base64'), JSON.stringify(pemOf(k.priv)), derOf(k.priv)]) {
        const s = await jwtSign({ sub: 'svc' }, key, { algorithm: k.alg });
        expect(s.header.alg).toBe(k.alg);
        expect((await jwtVerify(s.token, pemOf(k.pub), {})).claims.sub).toBe('svc');
      }
    }
  });

  it('a public DER key or certificate cannot sign; an asymmetric key never signs HS*', async () => {
    for (const k of kinds) {
      await expect(jwtSign({}, derOf(k.pub).toString('base64'), { algorithm: k.alg })).rejects.toThrow(`jwt_sign: a private key is required to sign with ${k.alg}`);
      await expect(jwtSign({}, k.cert.toString('base64'), { algorithm: k.alg })).rejects.toThrow(
        'jwt_sign: key is base64 DER: a certificate cannot be used to sign; a private key is required',
      );
      for (const key of [derOf(k.pub).toString('base64'), derOf(k.priv).toString('base64'), JSON.stringify(pemOf(k.pub)), pemOf(k.priv), derOf(k.priv)]) {
        await expect(jwtSign({}, key, { algorithm: 'HS256' })).rejects.toThrow(`jwt_sign: algorithm HS256 cannot be used with ${k.desc}`);
        // the default algorithm (HS256) is no way around it
        await expect(jwtSign({}, key, {})).rejects.toThrow(`jwt_sign: algorithm HS256 cannot be used with ${k.desc}`);
      }
    }
  });

  it('a string that is no key signs HS* only; other algorithms get a clear error', async () => {
    const s = await jwtSign({ sub: 'x' }, 'plain-shared-secret', { algorithm: 'HS384' });
    expect((await jwtVerify(s.token, 'plain-shared-secret', { allowed_algorithms: ['HS384'] })).claims.sub).toBe('x');
    const d = await jwtSign({ sub: 'x' }, 'plain-shared-secret', {}); // default HS256
    expect(d.header.alg).toBe('HS256');
    expect((await jwtVerify(d.token, octOf('plain-shared-secret'), {})).claims.sub).toBe('x');
    for (const alg of ['RS256', 'PS512', 'ES256', 'EdDSA']) {
      await expect(jwtSign({}, 'plain-shared-secret', { algorithm: alg })).rejects.toThrow(
        `jwt_sign: key is not a PEM, JWK or DER key; algorithm ${alg} needs a private key (PEM, JWK or DER), only HS256/HS384/HS512 take an HMAC secret`,
      );
    }
  });
});

describe('JWK "alg" must agree with the token', () => {
  it('RSA, EC, OKP and oct JWKs whose alg disagrees are refused, alone or picked by kid', async () => {
    const [rsa, ec, ed] = kinds;
    const jwk = (k: KeyObject, extra: Record<string, unknown>) => ({ ...k.export({ format: 'jwk' }), ...extra });
    const ps = await jwtSign({ sub: 'p' }, pemOf(rsa.priv), { algorithm: 'PS256', kid: 'r' });
    await expect(jwtVerify(ps.token, jwk(rsa.pub, { alg: 'RS256' }), {})).rejects.toThrow(
      `jwt_verify: the JWK's "alg" is RS256, so it cannot be used with a token signed with PS256`,
    );
    await expect(jwtVerify(ps.token, JSON.stringify({ keys: [jwk(rsa.pub, { alg: 'RS256', kid: 'r' })] }), {})).rejects.toThrow(
      `jwt_verify: the JWK's "alg" is RS256, so it cannot be used with a token signed with PS256`,
    );
    // without kid, a JWKS whose only RSA key says RS256 has nothing for PS256
    const psNoKid = await jwtSign({ sub: 'p' }, pemOf(rsa.priv), { algorithm: 'PS256' });
    await expect(jwtVerify(psNoKid.token, { keys: [jwk(rsa.pub, { alg: 'RS256' }), jwk(ec.pub, { alg: 'ES256' })] }, {})).rejects.toThrow(
      'jwt_verify: no key fits algorithm PS256',
    );
    expect((await jwtVerify(ps.token, jwk(rsa.pub, { alg: 'PS256' }), {})).claims.sub).toBe('p');

    const es = await jwtSign({ sub: 'e' }, pemOf(ec.priv), { algorithm: 'ES256' });
    await expect(jwtVerify(es.token, jwk(ec.pub, { alg: 'ES384' }), {})).rejects.toThrow(`the JWK's "alg" is ES384, so it cannot be used with a token signed with ES256`);

    // metadata cannot turn a public key into an HMAC secret: alg "HS256" on an RSA / OKP JWK
    for (const [k, desc] of [
      [rsa, 'an RSA key'],
      [ed, 'an Ed25519 key'],
    ] as const) {
      const pub = jwk(k.pub, { alg: 'HS256' });
      const text = JSON.stringify(pub);
      await expect(jwtVerify(forge('HS256', text), text, {})).rejects.toThrow(`jwt_verify: algorithm HS256 cannot be used with ${desc}`);
      await expect(jwtVerify(forge('HS256', text), pub, { allowed_algorithms: ['HS256'] })).rejects.toThrow(`algorithm HS256 cannot be used with ${desc}`);
    }

    // an oct JWK is HMAC, but its alg binds too
    const oct = { ...octOf('shared-secret-of-some-length'), alg: 'HS512' };
    await expect(jwtVerify(forge('HS256', 'shared-secret-of-some-length'), oct, {})).rejects.toThrow(
      `the JWK's "alg" is HS512, so it cannot be used with a token signed with HS256`,
    );
    expect((await jwtVerify(forge('HS512', 'shared-secret-of-some-length'), oct, {})).claims.sub).toBe('admin');
  });

  it('jwt_sign refuses a JWK whose alg disagrees with the algorithm', async () => {
    const [rsa] = kinds;
    const priv = { ...rsa.priv.export({ format: 'jwk' }), alg: 'RS256' };
    await expect(jwtSign({}, priv, { algorithm: 'PS256' })).rejects.toThrow(`jwt_sign: the JWK's "alg" is RS256, so it cannot be used with algorithm PS256`);
    expect((await jwtSign({}, priv, { algorithm: 'RS256' })).header.alg).toBe('RS256');
  });
});

describe('alg "none"', () => {
  it('is refused with every key form and option, signed or not', async () => {
    const [rsa] = kinds;
    const tokens = [
      `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin' })}.`,
      `${b64url({ alg: 'None' })}.${b64url({ sub: 'admin' })}.`,
      `${b64url({ alg: 'NONE' })}.${b64url({ sub: 'admin' })}.${b64url('sig')}`,
    ];
    const keys: [unknown, Record<string, unknown>][] = [
      [pemOf(rsa.pub), {}],
      [derOf(rsa.pub).toString('base64'), {}],
      [JSON.stringify(pemOf(rsa.pub)), {}],
      [rsa.pub.export({ format: 'jwk' }), {}],
      ['plain-secret', {}],
      ['plain-secret', { allowed_algorithms: ['HS256'] }],
      [octOf('plain-secret'), {}],
      [Buffer.from('plain-secret'), {}],
    ];
    for (const t of tokens) {
      for (const [key, opts] of keys) {
        await expect(jwtVerify(t, key, opts)).rejects.toThrow('jwt_verify: unsecured tokens (alg "none") are not accepted');
      }
    }
    await expect(jwtVerify(tokens[0], 'plain-secret', { allowed_algorithms: ['none'] as never })).rejects.toThrow(/allowed_algorithms: unknown algorithm "none"/);
    await expect(jwtSign({}, 'plain-secret', { algorithm: 'none' })).rejects.toThrow(/jwt_sign: algorithm must be one of/);
  });
});

describe('a string that is no key is an HMAC secret only by configuration', () => {
  const SECRET = 'correct-horse-battery-staple-secret';
  const AMBIGUOUS = 'jwt_verify: key is not a PEM, JWK or DER key; set allowed_algorithms to HS256/HS384/HS512 to use it as an HMAC secret';

  it('without allowed_algorithms (or with an empty list) it is an error, even for a genuine HS256 token', async () => {
    const t = forge('HS256', SECRET);
    expect((await jwtVerify(t, octOf(SECRET), {})).claims.sub).toBe('admin'); // the token is well signed
    const err = await jwtVerify(t, SECRET, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JwtError);
    expect((err as Error).message).toBe(AMBIGUOUS);
    await expect(jwtVerify(t, SECRET, { allowed_algorithms: [] })).rejects.toThrow(AMBIGUOUS);
    // the same answer again (the classification is cached, the error too)
    await expect(jwtVerify(t, SECRET, {})).rejects.toThrow(AMBIGUOUS);
  });

  it('with allowed_algorithms listing only HS* it is a secret', async () => {
    expect((await jwtVerify(forge('HS256', SECRET), SECRET, { allowed_algorithms: ['HS256'] })).claims.sub).toBe('admin');
    expect((await jwtVerify(forge('HS512', SECRET), SECRET, { allowed_algorithms: ['HS256', 'HS512'] })).claims.sub).toBe('admin');
    await expect(jwtVerify(forge('HS384', SECRET), SECRET, { allowed_algorithms: ['HS256'] })).rejects.toThrow('jwt_verify: algorithm HS384 is not allowed');
    await expect(jwtVerify(forge('HS256', SECRET + '!'), SECRET, { allowed_algorithms: ['HS256'] })).rejects.toThrow('jwt_verify: invalid signature');
  });

  it('allowed_algorithms mixing HS* with others is refused for such a key', async () => {
    await expect(jwtVerify(forge('HS256', SECRET), SECRET, { allowed_algorithms: ['HS256', 'RS256', 'ES256'] })).rejects.toThrow(
      'jwt_verify: key is not a PEM, JWK or DER key; allowed_algorithms must list only HS256/HS384/HS512 to use it as an HMAC secret (it also lists RS256, ES256)',
    );
    const rs = await jwtSign({}, pemOf(kinds[0].priv), { algorithm: 'RS256' });
    await expect(jwtVerify(rs.token, SECRET, { allowed_algorithms: ['RS256'] })).rejects.toThrow(/allowed_algorithms must list only HS256\/HS384\/HS512/);
  });

  it('base64 and hex secrets that are not DER stay ambiguous; a JSON-quoted secret is unquoted', async () => {
    for (const s of [Buffer.alloc(32, 7).toString('base64'), 'ab'.repeat(32), 'c2VjcmV0LXNlY3JldC1zZWNyZXQ']) {
      await expect(jwtVerify(forge('HS256', s), s, {})).rejects.toThrow(AMBIGUOUS);
      expect((await jwtVerify(forge('HS256', s), s, { allowed_algorithms: ['HS256'] })).claims.sub).toBe('admin');
    }
    const quoted = JSON.stringify(SECRET);
    await expect(jwtVerify(forge('HS256', SECRET), quoted, {})).rejects.toThrow(AMBIGUOUS);
    expect((await jwtVerify(forge('HS256', SECRET), quoted, { allowed_algorithms: ['HS256'] })).claims.sub).toBe('admin');
  });

  it('explicit HMAC keys need no allowed_algorithms: an "oct" JWK, a JWKS holding one, bytes', async () => {
    const t = forge('HS256', SECRET);
    expect((await jwtVerify(t, octOf(SECRET), {})).claims.sub).toBe('admin');
    expect((await jwtVerify(t, JSON.stringify({ keys: [octOf(SECRET)] }), {})).claims.sub).toBe('admin');
    expect((await jwtVerify(t, Buffer.from(SECRET), {})).claims.sub).toBe('admin');
  });

  it('key-like text is never a secret, even with allowed_algorithms [HS256]', async () => {
    const [rsa] = kinds;
    const hs = { allowed_algorithms: ['HS256'] };
    const cases: [string, string][] = [
      [`public_key: ${pemOf(rsa.pub)}`, 'jwt_verify: key has text before its "-----BEGIN" line; pass the PEM block alone'],
      ['{"kty": "RSA", "n": ', 'jwt_verify: key starts with "{" but is not valid JSON (expected a JWK or a JWKS)'],
      [JSON.stringify([rsa.pub.export({ format: 'jwk' })]), 'jwt_verify: key is a JSON array; a JWKS is an object {"keys": [...]}'],
      [JSON.stringify({ public_key: derOf(rsa.pub).toString('base64') }), 'jwt_verify: unsupported key: expected a PEM string, a JWK, a JWKS or an HMAC secret'],
      // DER SEQUENCE { OCTET STRING, OCTET STRING }: DER, but no key
      [Buffer.from('30120407aaaaaaaaaaaaaa0407bbbbbbbbbbbbbb', 'hex').toString('base64'), 'jwt_verify: key is base64 DER data but not an SPKI, PKCS#8 or X.509 certificate key (never used as an HMAC secret)'],
      [derOf(generateKeyPairSync('x25519').publicKey).toString('base64'), 'jwt_verify: key is base64 DER: unsupported key type: x25519'],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'jwt_verify: invalid PEM key'],
    ];
    for (const [key, message] of cases) {
      await expect(jwtVerify(forge('HS256', key), key, hs), key.slice(0, 40)).rejects.toThrow(message);
      await expect(jwtVerify(forge('HS256', key), key, {}), key.slice(0, 40)).rejects.toThrow(message);
    }
    // bytes: a DER SPKI of an unsupported type, and DER that is no key
    await expect(jwtVerify(forge('HS256', 'x'), derOf(generateKeyPairSync('x25519').publicKey), {})).rejects.toThrow(
      'jwt_verify: key bytes are DER: unsupported key type: x25519',
    );
  });

  it('an empty key is an error', async () => {
    await expect(jwtVerify(forge('HS256', 'x'), '', { allowed_algorithms: ['HS256'] })).rejects.toThrow('jwt_verify: key is empty');
    await expect(jwtVerify(forge('HS256', 'x'), '  \n', { allowed_algorithms: ['HS256'] })).rejects.toThrow('jwt_verify: key is empty');
    await expect(jwtVerify(forge('HS256', 'x'), '""', { allowed_algorithms: ['HS256'] })).rejects.toThrow('jwt_verify: key is empty');
  });
});

describe('end to end: a flow fetches the realm public key from an identity provider and verifies', () => {
  let dk: Datakit;
  let idp: TestServer;
  const realm = { priv: undefined as unknown as KeyObject, pub: undefined as unknown as KeyObject };
  const flows: Record<string, ReturnType<Datakit['load']>> = {};

  const flowYaml = (path: string, extra = '') => `
nodes:
- name: REALM
  type: call
  url: ${idp.url}${path}
  method: GET
- name: PUBLIC_KEY
  type: jq
  input: REALM.body
  jq: .public_key
- name: TOKEN
  type: jq
  input: request.headers
  jq: .authorization // .Authorization
- name: VERIFY
  type: jwt_verify${extra}
  issuers:
  - ${idp.url}/realms/demo
  inputs:
    token: TOKEN
    key: PUBLIC_KEY
- name: DONE
  type: exit
  status: 200
  inputs:
    body: VERIFY.claims
`;

  beforeAll(async () => {
    const p = generateKeyPairSync('rsa', { modulusLength: 2048 });
    realm.priv = p.privateKey;
    realm.pub = p.publicKey;
    idp = await startServer((req, res) => {
      // Keycloak's realm endpoint: the public key as base64 DER SPKI
      if (req.url === '/realms/demo') json(res, 200, { realm: 'demo', public_key: derOf(realm.pub).toString('base64'), 'token-service': `${idp.url}/realms/demo/protocol/openid-connect` });
      else if (req.url === '/realms/quoted') json(res, 200, { realm: 'quoted', public_key: JSON.stringify(pemOf(realm.pub)) });
      else if (req.url === '/realms/secret') json(res, 200, { realm: 'secret', public_key: 'not-a-key-just-text' });
      else json(res, 404, {});
    });
    dk = await Datakit.create({ logger: memoryLogger() });
    flows.der = dk.load(flowYaml('/realms/demo'));
    flows.derHs = dk.load(flowYaml('/realms/demo', '\n  allowed_algorithms:\n  - HS256'));
    flows.quoted = dk.load(flowYaml('/realms/quoted'));
    flows.secret = dk.load(flowYaml('/realms/secret'));
  });

  afterAll(async () => {
    await idp?.close();
    await dk?.close();
  });

  const run = (flow: ReturnType<Datakit['load']>, token: string) => flow.run({ method: 'GET', path: '/', headers: { Authorization: `Bearer ${token}` } });
  const claims = () => ({ sub: 'alice', iss: `${idp.url}/realms/demo`, exp: now() + 300 });

  it('the genuine RS256 token is accepted with the fetched base64 DER public_key', async () => {
    const genuine = await jwtSign(claims(), pemOf(realm.priv), { algorithm: 'RS256' });
    const ok = await run(flows.der, genuine.token);
    expect(ok.failure).toBeUndefined();
    expect(ok.response.status).toBe(200);
    expect(bodyJson(ok.response.body)).toMatchObject({ sub: 'alice' });
    // with allowed_algorithms [HS256] the RS256 token is not allowed
    const hsOnly = await run(flows.derHs, genuine.token);
    expect(hsOnly.response.status).toBe(500);
    expect(hsOnly.failure?.message).toContain('jwt_verify: algorithm RS256 is not allowed');
  });

  it('the HS256 token forged with the fetched public_key is refused, even with allowed_algorithms [HS256]', async () => {
    // the attacker fetches the same public endpoint and signs with its text
    const published = (await (await fetch(`${idp.url}/realms/demo`)).json()) as { public_key: string };
    const forged = forge('HS256', published.public_key, { ...claims(), sub: 'admin' });
    expect((await jwtVerify(forged, octOf(published.public_key), {})).claims.sub).toBe('admin'); // well signed for that secret
    for (const flow of [flows.der, flows.derHs]) {
      const r = await run(flow, forged);
      expect(r.response.status).toBe(500);
      expect(r.failure?.node.name).toBe('VERIFY');
      expect(r.failure?.message).toContain('jwt_verify: algorithm HS256 cannot be used with an RSA key');
      expect(text(r.response.body)).not.toContain('admin');
    }
  });

  it('a JSON-quoted PEM public_key: forged refused, genuine accepted', async () => {
    for (const secret of [JSON.stringify(pemOf(realm.pub)), pemOf(realm.pub)]) {
      const r = await run(flows.quoted, forge('HS256', secret, { ...claims(), sub: 'admin' }));
      expect(r.response.status).toBe(500);
      expect(r.failure?.message).toContain('jwt_verify: algorithm HS256 cannot be used with an RSA key');
    }
    const genuine = await jwtSign(claims(), pemOf(realm.priv), { algorithm: 'RS256' });
    const ok = await run(flows.quoted, genuine.token);
    expect(ok.failure).toBeUndefined();
    expect(bodyJson(ok.response.body)).toMatchObject({ sub: 'alice' });
  });

  it('a fetched key that is no key, without allowed_algorithms, fails the node with the clear error', async () => {
    const r = await run(flows.secret, forge('HS256', 'not-a-key-just-text', claims()));
    expect(r.response.status).toBe(500);
    expect(r.failure?.node.name).toBe('VERIFY');
    expect(r.failure?.message).toContain(
      'jwt_verify: key is not a PEM, JWK or DER key; set allowed_algorithms to HS256/HS384/HS512 to use it as an HMAC secret',
    );
  });
});
