import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JwtError,
  jwtDecode,
  jwtSign,
  jwtVerify,
  SUPPORTED_ALGORITHMS,
  validateJwtSignOptions,
  validateJwtVerifyOptions,
} from '../../host/capabilities/jwt.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Hand-made HS token, to craft headers/claims jose would refuse to produce. */
function hsToken(header: Record<string, unknown>, payload: unknown, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(header.alg === 'HS512' ? 'sha512' : header.alg === 'HS384' ? 'sha384' : 'sha256', secret).update(input).digest('base64url')}`;
}

interface Pair {
  priv: KeyObject;
  pub: KeyObject;
}
const pairs: Record<string, Pair> = {};
const pem = (k: KeyObject) => k.export({ format: 'pem', type: k.type === 'private' ? 'pkcs8' : 'spki' }).toString();
const jwk = (k: KeyObject, extra: Record<string, unknown> = {}) => ({ ...k.export({ format: 'jwk' }), ...extra });

beforeAll(() => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pairs.rsa = { priv: rsa.privateKey, pub: rsa.publicKey };
  const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pairs.rsa2 = { priv: rsa2.privateKey, pub: rsa2.publicKey };
  for (const [name, curve] of [
    ['p256', 'prime256v1'],
    ['p384', 'secp384r1'],
    ['p521', 'secp521r1'],
  ] as const) {
    const p = generateKeyPairSync('ec', { namedCurve: curve });
    pairs[name] = { priv: p.privateKey, pub: p.publicKey };
  }
  const ed = generateKeyPairSync('ed25519');
  pairs.ed25519 = { priv: ed.privateKey, pub: ed.publicKey };
  const ed448 = generateKeyPairSync('ed448');
  pairs.ed448 = { priv: ed448.privateKey, pub: ed448.publicKey };
});

const SECRET = 'a-very-secret-hmac-key-of-32-bytes!!';
/** A plain string is an HMAC secret only when allowed_algorithms lists only HS* (see jwt-keys.test.ts). */
const HS = { allowed_algorithms: ['HS256', 'HS384', 'HS512'] };
const pairFor: Record<string, string> = {
  RS256: 'rsa',
  RS384: 'rsa',
  RS512: 'rsa',
  PS256: 'rsa',
  PS384: 'rsa',
  PS512: 'rsa',
  ES256: 'p256',
  ES384: 'p384',
  ES512: 'p521',
  EdDSA: 'ed25519',
};

describe('jwtDecode', () => {
  it('decodes header, payload and signature without verifying; accepts Bearer in any case', () => {
    const t = hsToken({ alg: 'HS256', typ: 'JWT', kid: 'k1' }, { sub: 'alice', n: 1 }, 'x');
    const r = jwtDecode(t);
    expect(r.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    expect(r.payload).toEqual({ sub: 'alice', n: 1 });
    expect(r.signature).toBe(t.split('.')[2]);
    for (const p of ['Bearer ', 'bearer ', 'BEARER  ', '  Bearer\t']) expect(jwtDecode(p + t)).toEqual(r);
  });

  it('returns a non-JSON JWS payload as text', () => {
    expect(jwtDecode(`${b64({ alg: 'HS256' })}.${b64('hello')}.sig`).payload).toBe('hello');
  });

  it('rejects malformed tokens with clear messages', () => {
    const cases: [unknown, RegExp][] = [
      ['', /invalid token: empty/],
      ['Bearer ', /invalid token: empty/],
      ['abc', /expected 3 segments separated by "\.", got 1/],
      ['a.b', /got 2/],
      ['a.b.c.d.e', /got 5/],
      [`!!!.${b64({})}.x`, /header is not base64url/],
      [`${b64('not json')}.${b64({})}.x`, /header is not valid JSON/],
      [`${b64([1])}.${b64({})}.x`, /header is not a JSON object/],
      [`${b64({ alg: 'HS256' })}.${b64({})}.a+b`, /signature is not base64url/],
      [`.${b64({})}.x`, /empty header/],
      [null, /expected a string, got null/],
      ['x'.repeat(70000), /longer than/],
    ];
    for (const [tok, msg] of cases) {
      expect(() => jwtDecode(tok as string), String(tok).slice(0, 30)).toThrow(msg);
      expect(() => jwtDecode(tok as string)).toThrow(JwtError);
    }
  });
});

describe('jwtSign + jwtVerify: every algorithm family', () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    it(`${alg} with a plain secret`, async () => {
      const s = await jwtSign({ sub: 'alice' }, SECRET, { algorithm: alg });
      expect(s.header).toEqual({ alg, typ: 'JWT' });
      const v = await jwtVerify(s.token, SECRET, HS);
      expect(v.claims.sub).toBe('alice');
      expect(v.header.alg).toBe(alg);
      await expect(jwtVerify(s.token, SECRET + 'x', HS)).rejects.toThrow('invalid signature');
    });
  }

  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
    it(`${alg} with PEM, JWK object, JWK string and JWKS`, async () => {
      const p = pairs[pairFor[alg]];
      const s = await jwtSign({ sub: 'bob' }, pem(p.priv), { algorithm: alg, kid: 'main' });
      expect(s.header).toEqual({ alg, typ: 'JWT', kid: 'main' });
      expect((await jwtVerify(s.token, pem(p.pub), {})).claims.sub).toBe('bob');
      expect((await jwtVerify(s.token, pem(p.priv), {})).claims.sub).toBe('bob'); // public part derived
      expect((await jwtVerify(s.token, jwk(p.pub), {})).claims.sub).toBe('bob');
      expect((await jwtVerify(s.token, JSON.stringify(jwk(p.pub)), {})).claims.sub).toBe('bob');
      expect((await jwtVerify(s.token, { keys: [jwk(pairs.rsa2.pub, { kid: 'other' }), jwk(p.pub, { kid: 'main' })] }, {})).claims.sub).toBe('bob');
      // signing with a private JWK works too
      const s2 = await jwtSign({ sub: 'bob' }, jwk(p.priv), { algorithm: alg });
      expect((await jwtVerify(s2.token, pem(p.pub), {})).claims.sub).toBe('bob');
      // wrong key of the same family
      const wrong = alg.startsWith('R') || alg.startsWith('P') ? pairs.rsa2.pub : alg === 'EdDSA' ? generateKeyPairSync('ed25519').publicKey : generateKeyPairSync('ec', { namedCurve: { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }[alg]! }).publicKey;
      await expect(jwtVerify(s.token, pem(wrong), {})).rejects.toThrow('invalid signature');
    });
  }

  it('EdDSA with Ed448 is refused clearly (jose 6 implements Ed25519 only)', async () => {
    await expect(jwtSign({ sub: 'e' }, pem(pairs.ed448.priv), { algorithm: 'EdDSA' })).rejects.toThrow(
      'algorithm EdDSA cannot be used with an Ed448 key',
    );
  });

  it('verifies against an X.509 certificate PEM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwtcert-'));
    try {
      const keyFile = join(dir, 'k.pem');
      const certFile = join(dir, 'c.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=test'], {
        stdio: 'ignore',
      });
      const s = await jwtSign({ sub: 'cert' }, readFileSync(keyFile, 'utf8'), { algorithm: 'RS256' });
      expect((await jwtVerify(s.token, readFileSync(certFile, 'utf8'), {})).claims.sub).toBe('cert');
      await expect(jwtSign({}, readFileSync(certFile, 'utf8'), { algorithm: 'RS256' })).rejects.toThrow(/certificate cannot be used to sign/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('HS with an "oct" JWK and a JWKS containing it; a Buffer secret', async () => {
    const k = { kty: 'oct', k: Buffer.from(SECRET).toString('base64url'), kid: 'h1' };
    const s = await jwtSign({ a: 1 }, k, { algorithm: 'HS512' });
    expect(s.header.kid).toBe('h1'); // kid taken from the JWK
    expect((await jwtVerify(s.token, SECRET, HS)).claims.a).toBe(1);
    expect((await jwtVerify(s.token, { keys: [jwk(pairs.rsa.pub, { kid: 'r' }), k] }, {})).claims.a).toBe(1);
    expect((await jwtVerify(s.token, Buffer.from(SECRET), {})).claims.a).toBe(1);
  });
});

describe('algorithm / key-type binding', () => {
  it('FORGED: HS256 signed with the RSA public key PEM text must not verify against that PEM', async () => {
    const publicPem = pem(pairs.rsa.pub);
    const forged = hsToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'admin', exp: now() + 600 }, publicPem);
    await expect(jwtVerify(forged, publicPem, {})).rejects.toThrow('algorithm HS256 cannot be used with an RSA key');
    await expect(jwtVerify(forged, publicPem, { allowed_algorithms: ['HS256', 'RS256'] })).rejects.toThrow(JwtError);
    // also with surrounding whitespace / as JWK / as JWKS / as certificate-less variants
    await expect(jwtVerify(forged, `\n${publicPem}\n`, {})).rejects.toThrow(/cannot be used with an RSA key/);
    const forgedJwk = hsToken({ alg: 'HS256' }, { sub: 'admin' }, JSON.stringify(jwk(pairs.rsa.pub)));
    await expect(jwtVerify(forgedJwk, JSON.stringify(jwk(pairs.rsa.pub)), {})).rejects.toThrow(/cannot be used with an RSA key/);
    await expect(jwtVerify(forgedJwk, jwk(pairs.rsa.pub), {})).rejects.toThrow(/cannot be used with an RSA key/);
    const jwks = { keys: [jwk(pairs.rsa.pub, { kid: 'r1' }), jwk(pairs.p256.pub, { kid: 'e1' })] };
    const forgedJwks = hsToken({ alg: 'HS256' }, { sub: 'admin' }, JSON.stringify(jwks));
    await expect(jwtVerify(forgedJwks, JSON.stringify(jwks), {})).rejects.toThrow('no key fits algorithm HS256');
    const forgedKid = hsToken({ alg: 'HS256', kid: 'r1' }, { sub: 'admin' }, publicPem);
    await expect(jwtVerify(forgedKid, jwks, {})).rejects.toThrow('algorithm HS256 cannot be used with an RSA key');
  });

  it('HS never verifies against EC or OKP public keys', async () => {
    for (const p of [pairs.p256, pairs.ed25519]) {
      const k = pem(p.pub);
      await expect(jwtVerify(hsToken({ alg: 'HS256' }, { a: 1 }, k), k, {})).rejects.toThrow(/HS256 cannot be used with an (EC P-256|Ed25519) key/);
    }
  });

  it('RS/PS need RSA, ES needs the matching curve, EdDSA needs OKP, secrets are not asymmetric keys', async () => {
    const rs = await jwtSign({}, pem(pairs.rsa.priv), { algorithm: 'RS256' });
    await expect(jwtVerify(rs.token, pem(pairs.p256.pub), {})).rejects.toThrow('algorithm RS256 cannot be used with an EC P-256 key');
    const octJwk = { kty: 'oct', k: Buffer.from(SECRET).toString('base64url') };
    await expect(jwtVerify(rs.token, octJwk, {})).rejects.toThrow('algorithm RS256 cannot be used with an HMAC secret');
    await expect(jwtVerify(rs.token, Buffer.from(SECRET), {})).rejects.toThrow('algorithm RS256 cannot be used with an HMAC secret');
    const es = await jwtSign({}, pem(pairs.p256.priv), { algorithm: 'ES256' });
    await expect(jwtVerify(es.token, pem(pairs.p384.pub), {})).rejects.toThrow('algorithm ES256 cannot be used with an EC P-384 key');
    await expect(jwtSign({}, pem(pairs.p384.priv), { algorithm: 'ES256' })).rejects.toThrow(/ES256 cannot be used with an EC P-384 key/);
    const ed = await jwtSign({}, pem(pairs.ed25519.priv), { algorithm: 'EdDSA' });
    await expect(jwtVerify(ed.token, pem(pairs.rsa.pub), {})).rejects.toThrow('algorithm EdDSA cannot be used with an RSA key');
    await expect(jwtSign({}, pem(pairs.rsa.priv), { algorithm: 'HS256' })).rejects.toThrow('algorithm HS256 cannot be used with an RSA key');
    await expect(jwtSign({}, pem(pairs.rsa.pub), { algorithm: 'RS256' })).rejects.toThrow('a private key is required to sign with RS256');
    await expect(jwtSign({}, jwk(pairs.rsa.pub), { algorithm: 'RS256' })).rejects.toThrow(/private key is required/);
  });

  it('a JWK "alg" member restricts the algorithm', async () => {
    const ps = await jwtSign({}, pem(pairs.rsa.priv), { algorithm: 'PS256' });
    await expect(jwtVerify(ps.token, jwk(pairs.rsa.pub, { alg: 'RS256' }), {})).rejects.toThrow(/cannot be used/);
    expect((await jwtVerify(ps.token, jwk(pairs.rsa.pub, { alg: 'PS256' }), {})).header.alg).toBe('PS256');
  });

  it('alg "none" and unknown algorithms never verify', async () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin' })}.`;
    await expect(jwtVerify(none, SECRET, HS)).rejects.toThrow('unsecured tokens (alg "none") are not accepted');
    await expect(jwtVerify(`${b64({ alg: 'NONE' })}.${b64({})}.`, SECRET, HS)).rejects.toThrow(/not accepted/);
    await expect(jwtVerify(`${b64({ alg: 'HS1' })}.${b64({})}.x`, SECRET, HS)).rejects.toThrow('unsupported algorithm "HS1"');
    await expect(jwtVerify(`${b64({ typ: 'JWT' })}.${b64({})}.x`, SECRET, HS)).rejects.toThrow('invalid token: header has no "alg"');
    await expect(jwtSign({}, SECRET, { algorithm: 'none' })).rejects.toThrow(/algorithm must be one of/);
  });

  it('allowed_algorithms restricts accepted algorithms', async () => {
    const s = await jwtSign({}, SECRET, { algorithm: 'HS384' });
    await expect(jwtVerify(s.token, SECRET, { allowed_algorithms: ['HS256'] })).rejects.toThrow('algorithm HS384 is not allowed');
    expect((await jwtVerify(s.token, SECRET, { allowed_algorithms: ['HS256', 'HS384'] })).header.alg).toBe('HS384');
  });
});

describe('JWKS key selection', () => {
  it('picks by kid; unknown kid is an error; without kid tries each fitting key', async () => {
    const jwks = {
      keys: [jwk(pairs.rsa2.pub, { kid: 'a', use: 'sig' }), jwk(pairs.rsa.pub, { kid: 'b' }), jwk(pairs.p256.pub, { kid: 'c' })],
    };
    const withKid = await jwtSign({ sub: 's' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'b' });
    expect((await jwtVerify(withKid.token, jwks, {})).claims.sub).toBe('s');
    expect((await jwtVerify(withKid.token, JSON.stringify(jwks), {})).claims.sub).toBe('s');
    const wrongKid = await jwtSign({ sub: 's' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'a' });
    await expect(jwtVerify(wrongKid.token, jwks, {})).rejects.toThrow('invalid signature');
    const unknownKid = await jwtSign({ sub: 's' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'zzz' });
    await expect(jwtVerify(unknownKid.token, jwks, {})).rejects.toThrow('no key found for kid "zzz"');
    const noKid = await jwtSign({ sub: 's' }, pem(pairs.rsa.priv), { algorithm: 'RS256' });
    expect((await jwtVerify(noKid.token, jwks, {})).claims.sub).toBe('s');
    const es = await jwtSign({ sub: 'e' }, pem(pairs.p256.priv), { algorithm: 'ES256' });
    expect((await jwtVerify(es.token, jwks, {})).claims.sub).toBe('e');
  });

  it('skips encryption keys and unusable entries; a JWKS with nothing usable is an error', async () => {
    const s = await jwtSign({ sub: 's' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'k' });
    await expect(jwtVerify(s.token, { keys: [jwk(pairs.rsa.pub, { kid: 'k', use: 'enc' })] }, {})).rejects.toThrow('no key found for kid "k"');
    await expect(jwtVerify(s.token, { keys: [{ kty: 'RSA', n: '!!' }, 'junk'] }, {})).rejects.toThrow(/JWKS has no usable key/);
    expect((await jwtVerify(s.token, { keys: [{ kty: 'XYZ' }, jwk(pairs.rsa.pub, { kid: 'k' })] }, {})).claims.sub).toBe('s');
  });

  it('signs with the JWKS key selected by kid', async () => {
    const priv = { keys: [jwk(pairs.rsa2.priv, { kid: 'old' }), jwk(pairs.rsa.priv, { kid: 'new' })] };
    const s = await jwtSign({}, priv, { algorithm: 'RS256', kid: 'new' });
    expect(s.header.kid).toBe('new');
    expect((await jwtVerify(s.token, pem(pairs.rsa.pub), {})).header.kid).toBe('new');
    await expect(jwtSign({}, priv, { algorithm: 'RS256', kid: 'none-such' })).rejects.toThrow('no key in the JWKS fits algorithm RS256 and kid "none-such"');
  });

  it('the multiple-JWTs flow: JWKS JSON string from a vault, issuers and required claims', async () => {
    const jwks1 = JSON.stringify({ keys: [jwk(pairs.rsa.pub, { kid: 'k1', alg: 'RS256', use: 'sig' })] });
    const opts = { issuers: ['expected-issuer-1'], required_claims: ['sub', 'iss', 'exp'] };
    const good = await jwtSign({ sub: 'alice' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'k1', static_claims: { iss: 'expected-issuer-1' } });
    expect((await jwtVerify(`Bearer ${good.token}`, jwks1, opts)).claims).toMatchObject({ sub: 'alice', iss: 'expected-issuer-1' });
    const otherIss = await jwtSign({ sub: 'alice' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'k1', static_claims: { iss: 'expected-issuer-2' } });
    await expect(jwtVerify(otherIss.token, jwks1, opts)).rejects.toThrow('issuer not allowed');
    const noExp = await jwtSign({ sub: 'alice', iss: 'expected-issuer-1' }, pem(pairs.rsa.priv), { algorithm: 'RS256', kid: 'k1', expires_in: 0 });
    await expect(jwtVerify(noExp.token, jwks1, opts)).rejects.toThrow('missing required claim "exp"');
  });
});

describe('claim validation', () => {
  const t = (claims: Record<string, unknown>) => hsToken({ alg: 'HS256' }, claims, SECRET);

  it('exp with leeway and validate_exp', async () => {
    const expired = t({ exp: now() - 10 });
    await expect(jwtVerify(expired, SECRET, HS)).rejects.toThrow('token expired');
    expect((await jwtVerify(expired, SECRET, { ...HS, leeway: 30 })).claims.exp).toBeDefined();
    expect((await jwtVerify(expired, SECRET, { ...HS, validate_exp: false })).claims.exp).toBeDefined();
    await expect(jwtVerify(t({ exp: now() }), SECRET, HS)).rejects.toThrow('token expired');
    await expect(jwtVerify(t({ exp: 'tomorrow' }), SECRET, HS)).rejects.toThrow('invalid "exp" claim: must be a number');
  });

  it('nbf with leeway and validate_nbf', async () => {
    const early = t({ nbf: now() + 60 });
    await expect(jwtVerify(early, SECRET, HS)).rejects.toThrow('token not valid yet (nbf)');
    expect((await jwtVerify(early, SECRET, { ...HS, leeway: 120 })).claims.nbf).toBeDefined();
    expect((await jwtVerify(early, SECRET, { ...HS, validate_nbf: false })).claims.nbf).toBeDefined();
  });

  it('iat must not be in the future beyond leeway', async () => {
    await expect(jwtVerify(t({ iat: now() + 120 }), SECRET, HS)).rejects.toThrow('token issued in the future (iat)');
    expect((await jwtVerify(t({ iat: now() + 120 }), SECRET, { ...HS, leeway: 300 })).claims.iat).toBeDefined();
    expect((await jwtVerify(t({ iat: now() - 1000 }), SECRET, HS)).claims.iat).toBeDefined();
  });

  it('issuers, audiences (string or array), required_claims', async () => {
    await expect(jwtVerify(t({ iss: 'evil' }), SECRET, { ...HS, issuers: ['good'] })).rejects.toThrow('issuer not allowed');
    await expect(jwtVerify(t({}), SECRET, { ...HS, issuers: ['good'] })).rejects.toThrow('issuer not allowed');
    expect((await jwtVerify(t({ iss: 'good' }), SECRET, { ...HS, issuers: ['x', 'good'] })).claims.iss).toBe('good');
    expect((await jwtVerify(t({ aud: 'api' }), SECRET, { ...HS, audiences: ['api'] })).claims.aud).toBe('api');
    expect((await jwtVerify(t({ aud: ['web', 'api'] }), SECRET, { ...HS, audiences: ['api', 'cli'] })).claims.aud).toEqual(['web', 'api']);
    await expect(jwtVerify(t({ aud: ['web'] }), SECRET, { ...HS, audiences: ['api'] })).rejects.toThrow('audience not allowed');
    await expect(jwtVerify(t({}), SECRET, { ...HS, audiences: ['api'] })).rejects.toThrow('audience not allowed');
    await expect(jwtVerify(t({ iss: 'x' }), SECRET, { ...HS, required_claims: ['iss', 'sub'] })).rejects.toThrow('missing required claim "sub"');
    await expect(jwtVerify(t({ sub: null }), SECRET, { ...HS, required_claims: ['sub'] })).rejects.toThrow('missing required claim "sub"');
  });

  it('a token whose payload is not a JSON object', async () => {
    const input = `${b64({ alg: 'HS256' })}.${b64('[1,2]')}`;
    const tok = `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    await expect(jwtVerify(tok, SECRET, HS)).rejects.toThrow('invalid token: claims are not a JSON object');
  });

  it('tampered payload fails the signature', async () => {
    const good = t({ sub: 'alice' });
    const [h, , s] = good.split('.');
    await expect(jwtVerify(`${h}.${b64({ sub: 'admin' })}.${s}`, SECRET, HS)).rejects.toThrow('invalid signature');
    await expect(jwtVerify(`${h}.${b64({ sub: 'alice' })}.`, SECRET, HS)).rejects.toThrow('invalid signature');
  });
});

describe('jwtSign claims and header', () => {
  it('adds iat/exp, merges static_claims (they win over input claims), sets typ and kid', async () => {
    const before = now();
    const s = await jwtSign({ sub: 'c-1', iss: 'spoofed', role: 'user' }, SECRET, {
      algorithm: 'HS256',
      expires_in: 300,
      static_claims: { iss: 'kong', env: 'prod' },
      kid: 'hmac-1',
      typ: 'at+jwt',
    });
    expect(s.claims.iss).toBe('kong');
    expect(s.claims).toMatchObject({ sub: 'c-1', role: 'user', env: 'prod' });
    expect(s.claims.iat).toBeGreaterThanOrEqual(before);
    expect(s.claims.exp).toBe((s.claims.iat as number) + 300);
    expect(s.claims.nbf).toBeUndefined();
    expect(s.header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'hmac-1' });
    const d = jwtDecode(s.token);
    expect(d.header).toEqual(s.header);
    expect(d.payload).toEqual(s.claims);
  });

  it('defaults: HS256, 300 s expiry, typ JWT; null claims allowed', async () => {
    const s = await jwtSign(null, SECRET, {});
    expect(s.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(s.claims.exp).toBe((s.claims.iat as number) + 300);
    expect(Object.keys(s.claims).sort()).toEqual(['exp', 'iat']);
  });

  it('expires_in 0 means no exp (an input exp is kept); not_before adds nbf', async () => {
    const s = await jwtSign({ exp: 123 }, SECRET, { expires_in: 0, not_before: 60 });
    expect(s.claims.exp).toBe(123);
    expect(s.claims.nbf).toBe((s.claims.iat as number) + 60);
    await expect(jwtVerify(s.token, SECRET, HS)).rejects.toThrow('token expired');
    const n = await jwtSign({}, SECRET, { not_before: 60 });
    await expect(jwtVerify(n.token, SECRET, HS)).rejects.toThrow('token not valid yet (nbf)');
  });

  it('the sign-consumer-jwt flow: token verifies with the same secret', async () => {
    const s = await jwtSign({ sub: 'consumer-id' }, 'vault-secret', { algorithm: 'HS256', expires_in: 300, static_claims: { iss: 'kong' } });
    const v = await jwtVerify(s.token, 'vault-secret', { ...HS, issuers: ['kong'], required_claims: ['sub', 'exp'] });
    expect(v.claims).toEqual(s.claims);
  });

  it('rejects bad claims and keys', async () => {
    await expect(jwtSign([1] as unknown as Record<string, unknown>, SECRET, {})).rejects.toThrow('claims must be a JSON object');
    await expect(jwtSign({}, '', {})).rejects.toThrow('jwt_sign: key is empty');
    await expect(jwtSign({}, new Uint8Array(0), {})).rejects.toThrow('jwt_sign: empty HMAC secret');
    await expect(jwtSign({}, null, {})).rejects.toThrow('no key given');
    await expect(jwtSign({}, 42, {})).rejects.toThrow(/unsupported key/);
    await expect(jwtSign({}, { foo: 1 }, {})).rejects.toThrow(/unsupported key: expected a PEM string, a JWK, a JWKS or an HMAC secret/);
    await expect(jwtSign({}, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', { algorithm: 'RS256' })).rejects.toThrow(/invalid PEM key/);
    await expect(jwtVerify('a.b.c', '-----BEGIN FOO-----\n-----END FOO-----', {})).rejects.toThrow(JwtError);
    await expect(jwtSign({}, { kty: 'oct' }, {})).rejects.toThrow(/invalid JWK/);
  });
});

describe('option validation', () => {
  it('jwt_sign options', () => {
    expect(validateJwtSignOptions({ algorithm: 'HS256', expires_in: 300, static_claims: { iss: 'kong' } })).toEqual([]);
    expect(validateJwtSignOptions(undefined)).toEqual([]);
    expect(validateJwtSignOptions({ algorithm: 'HS1' })).toEqual([`algorithm must be one of: ${SUPPORTED_ALGORITHMS.join(', ')}`]);
    expect(validateJwtSignOptions({ expires_in: -1, not_before: 1.5 })).toEqual([
      'expires_in must be a non-negative integer (seconds)',
      'not_before must be a non-negative integer (seconds)',
    ]);
    expect(validateJwtSignOptions({ kid: '', typ: 3, static_claims: [] , extra: 1})).toEqual([
      'extra: unknown field',
      'kid must be a non-empty string',
      'typ must be a non-empty string',
      'static_claims must be an object',
    ]);
  });

  it('jwt_verify options', () => {
    expect(validateJwtVerifyOptions({ issuers: ['a'], required_claims: ['sub'], leeway: 5, validate_exp: true })).toEqual([]);
    expect(validateJwtVerifyOptions({ leeway: -1 })).toEqual(['leeway must be a non-negative number (seconds)']);
    expect(validateJwtVerifyOptions({ allowed_algorithms: ['RS256', 'none'] })).toEqual([
      `allowed_algorithms: unknown algorithm "none" (expected one of: ${SUPPORTED_ALGORITHMS.join(', ')})`,
    ]);
    expect(validateJwtVerifyOptions({ issuers: 'a', audiences: [1], validate_nbf: 'yes' })).toEqual([
      'issuers must be an array of non-empty strings',
      'audiences must be an array of non-empty strings',
      'validate_nbf must be a boolean',
    ]);
  });

  it('jwtVerify applies the validation too', async () => {
    await expect(jwtVerify('a.b.c', SECRET, { ...HS, leeway: -5 })).rejects.toThrow('leeway must be a non-negative number (seconds)');
  });
});

describe('cost (informational)', () => {
  const timings: string[] = [];
  afterAll(() => console.log(timings.join('\n')));
  it('measures jwtVerify HS256 / RS256', async () => {
    const hs = await jwtSign({ sub: 'x' }, SECRET, {});
    const rs = await jwtSign({ sub: 'x' }, pem(pairs.rsa.priv), { algorithm: 'RS256' });
    const rsPem = pem(pairs.rsa.pub);
    for (const [name, tok, key, opts] of [
      ['HS256', hs.token, SECRET, HS],
      ['RS256', rs.token, rsPem, {}],
    ] as const) {
      for (let i = 0; i < 200; i++) await jwtVerify(tok, key, opts);
      const n = 2000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await jwtVerify(tok, key, opts);
      const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
      timings.push(`jwtVerify ${name}: ${us.toFixed(1)} µs/call`);
      expect(us).toBeGreaterThan(0);
    }
  });
});

describe('signature checks (node:crypto path)', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  it('RSA keys under 2048 bits never verify', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'x' })}`;
    const { sign } = await import('node:crypto');
    const sig = sign('sha256', Buffer.from(input), privateKey).toString('base64url');
    await expect(jwtVerify(`${input}.${sig}`, publicKey.export({ type: 'spki', format: 'pem' }), {})).rejects.toThrow(/invalid signature/);
  });

  it('a non-canonical base64url signature is rejected', async () => {
    const secret = 'k'.repeat(32);
    const input = `${b64({ alg: 'HS256' })}.${b64({ sub: 'x' })}`;
    const sig = createHmac('sha256', secret).update(input).digest('base64url');
    await expect(jwtVerify(`${input}.${sig}`, secret, HS)).resolves.toMatchObject({ claims: { sub: 'x' } });
    await expect(jwtVerify(`${input}.${sig}=`, secret, HS)).rejects.toThrow(/invalid (signature|token)/);
    await expect(jwtVerify(`${input}.${sig.slice(0, -1)}`, secret, HS)).rejects.toThrow(/invalid signature/);
  });
});
