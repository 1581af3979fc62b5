import { createHmac, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createDenyList } from '../../src/access/revocation.js';
import { isLevelGitError, type LevelGitError } from '../../src/errors.js';

const SECRET = 'test-secret-test-secret-test-secret-0123456789';
const T0 = Date.UTC(2030, 0, 1); // a fixed "now" in ms
const S0 = T0 / 1000;

/** Resolves to the UnauthorizedError `p` rejects with; fails the test otherwise. */
async function refused(p: Promise<unknown>): Promise<LevelGitError> {
  try {
    await p;
  } catch (err) {
    if (isLevelGitError(err, 'ERR_UNAUTHORIZED')) return err;
    throw err;
  }
  throw new Error('expected the token to be refused');
}

async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  return (await refused(p)).details.reason;
}

function hs(now = T0, extra: Partial<Parameters<typeof createTokenService>[0]> = {}): TokenService {
  return createTokenService({ keys: { secret: SECRET }, now: () => now, ...extra });
}

/** Signs a JWT the way an external backend would, with jose directly. */
async function external(
  key: Parameters<SignJWT['sign']>[0],
  alg: string,
  payload: Record<string, unknown>,
  opts: { iat?: number; exp?: number | null; jti?: string | null; kid?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader(opts.kid ? { alg, kid: opts.kid } : { alg }).setIssuedAt(opts.iat ?? S0);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? (opts.iat ?? S0) + 600);
  if (opts.jti !== null) jwt.setJti(opts.jti ?? 'ext-1');
  return jwt.sign(key);
}

/** An HS256 token over exactly `payload` (no claim checks on the way). */
function forgeHs(payload: object): string {
  const unsigned = forge({ alg: 'HS256' }, payload).slice(0, -1);
  const mac = createHmac('sha256', SECRET).update(unsigned).digest('base64url');
  return `${unsigned}.${mac}`;
}

/** A compact JWS with an arbitrary header and payload and a given signature part. */
function forge(header: object, payload: object, sig = ''): string {
  const enc = (o: object) => base64url.encode(new TextEncoder().encode(JSON.stringify(o)));
  return `${enc(header)}.${enc(payload)}.${sig}`;
}

describe('HS256 tokens', () => {
  it('round-trips with conventional claim names', async () => {
    const svc = hs();
    const { token, expiresAt, claims } = await svc.mint({
      repo: 'acme/site',
      permissions: ['git:write'],
      ephemeral: true,
      refs: [
        ['refs/heads/main', ['no-push']],
        ['refs/heads/*', ['no-force-push']],
      ],
      sub: 'agent-7',
    });
    expect(claims).toMatchObject({ repo: 'acme/site', permissions: ['git:read', 'git:write'], ephemeral: true, iat: S0, exp: S0 + 3600, sub: 'agent-7' });
    expect(expiresAt.getTime()).toBe(T0 + 3600_000);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT', minter: 'level-git' });
    const payload = decodeJwt(token);
    expect(payload).toEqual({
      repo: 'acme/site',
      scope: 'git:read git:write',
      ephemeral: true,
      refs: [
        ['refs/heads/main', ['no-push']],
        ['refs/heads/*', ['no-force-push']],
      ],
      sub: 'agent-7',
      iat: S0,
      exp: S0 + 3600,
      jti: claims.jti,
    });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await svc.verify(token)).toEqual(claims);
  });

  it('defaults to read-only and mints distinct ids', async () => {
    const svc = hs();
    const a = await svc.mint({ repo: 'r' });
    const b = await svc.mint({ repo: 'r' });
    expect(a.claims.permissions).toEqual(['git:read']);
    expect(decodeJwt(a.token).scope).toBe('git:read');
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(a.claims.ephemeral).toBeUndefined();
    expect(decodeJwt(a.token)).not.toHaveProperty('ephemeral');
  });

  it('honours ttl, and refuses one above the maximum when minting', async () => {
    const svc = hs(T0, { maxTtlSeconds: 7200 });
    expect((await svc.mint({ repo: 'r', ttl: 7200 })).claims.exp).toBe(S0 + 7200);
    for (const ttl of [7201, 0, -1, 1.5, Number.NaN]) {
      await expect(svc.mint({ repo: 'r', ttl })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('refuses bad mint arguments with InvalidArgumentError', async () => {
    const svc = hs();
    const bad: unknown[] = [
      { repo: '' },
      { repo: 'a\nb' },
      { repo: 42 },
      { repo: 'r', permissions: [] },
      { repo: 'r', permissions: ['git:admin'] },
      { repo: 'r', ephemeral: 'yes' },
      { repo: 'r', refs: [['heads/main', ['no-push']]] },
      { repo: 'r', refs: [['refs/heads/main', ['no-delete']]] },
      { repo: 'r', refs: [['refs/heads/*/x', []]] },
      { repo: 'r', refs: [['refs/heads/main']] },
      { repo: 'r', refs: [['refs/heads/main', ['no-push', 'no-push']]] },
      { repo: 'r', refs: {} },
    ];
    for (const claims of bad) {
      await expect(svc.mint(claims as never), JSON.stringify(claims)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('refuses tokens signed with another secret', async () => {
    const other = createTokenService({ keys: { secret: SECRET + '!' }, now: () => T0 });
    const { token } = await other.mint({ repo: 'r' });
    expect(await reasonOf(hs().verify(token))).toBe('signature');
  });

  it('refuses a tampered payload', async () => {
    const svc = hs();
    const { token } = await svc.mint({ repo: 'r', permissions: ['git:read'] });
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p!))) as Record<string, unknown>;
    payload.scope = 'git:read git:write';
    const tampered = `${h}.${base64url.encode(JSON.stringify(payload))}.${s}`;
    expect(await reasonOf(svc.verify(tampered))).toBe('signature');
    // Flipping one signature character is refused as well.
    const sig = s!;
    const flipped = `${h}.${p}.${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`;
    expect(await reasonOf(svc.verify(flipped))).toBe('signature');
  });

  it('refuses expired tokens, within the clock tolerance accepts them (own key: with ownClockToleranceSeconds)', async () => {
    const { token } = await hs().mint({ repo: 'r', ttl: 60 });
    await expect(hs(T0 + 60_000 + 29_000, { ownClockToleranceSeconds: 30 }).verify(token)).resolves.toMatchObject({ repo: 'r' });
    expect(await reasonOf(hs(T0 + 60_000 + 30_000, { ownClockToleranceSeconds: 30 }).verify(token))).toBe('expired');
    expect(await reasonOf(hs(T0 + 60_000, { clockToleranceSeconds: 0 }).verify(token))).toBe('expired');
  });

  it('a token the service minted ends exactly at exp: no clock tolerance for its own tokens', async () => {
    // ttl 2 minted half a second into a second: exp is 2 s after the whole second.
    const minted = await hs(T0 + 500).mint({ repo: 'r', ttl: 2 });
    expect(minted.expiresAt.getTime()).toBe(T0 + 2000);
    await expect(hs(T0 + 1999).verify(minted.token)).resolves.toMatchObject({ repo: 'r' });
    expect(await reasonOf(hs(T0 + 2000).verify(minted.token))).toBe('expired');
    expect(await reasonOf(hs(T0 + 2500).verify(minted.token))).toBe('expired');
    // The default clock tolerance (30 s) is for other issuers: it does not stretch our own tokens.
    expect(await reasonOf(hs(T0 + 2000, { clockToleranceSeconds: 30 }).verify(minted.token))).toBe('expired');
    // The same holds for a service that signs with a private key (its public half is its own key).
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const es = (now: number) => createTokenService({ keys: { privateKey }, now: () => now });
    const { token } = await es(T0).mint({ repo: 'r', ttl: 2 });
    await expect(es(T0 + 1999).verify(token)).resolves.toMatchObject({ repo: 'r' });
    expect(await reasonOf(es(T0 + 2000).verify(token))).toBe('expired');
    expect(() => hs(T0, { ownClockToleranceSeconds: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('tokens from other issuers keep the clock tolerance (clockToleranceSeconds, default 30 s)', async () => {
    // Minted elsewhere with the shared secret (no minter mark): the other host's clock may differ.
    const shared = await external(new TextEncoder().encode(SECRET), 'HS256', { repo: 'r', scope: 'git:read' }, { exp: S0 + 2 });
    await expect(hs(T0 + 2000 + 29_000).verify(shared)).resolves.toMatchObject({ repo: 'r' });
    expect(await reasonOf(hs(T0 + 2000 + 30_000).verify(shared))).toBe('expired');
    // The mark counts only with the service's own key: another level-git server's token is another issuer's.
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const other = await createTokenService({ keys: { privateKey }, now: () => T0 }).mint({ repo: 'r', ttl: 2 });
    expect(decodeProtectedHeader(other.token).minter).toBe('level-git');
    await expect(createTokenService({ keys: { publicKeys: [publicKey] }, now: () => T0 + 2000 + 29_000 }).verify(other.token)).resolves.toMatchObject({
      repo: 'r',
    });
    const token = await external(privateKey, 'ES256', { repo: 'r', scope: 'git:read' }, { exp: S0 + 2 });
    const verifier = (now: number, extra = {}) => createTokenService({ keys: { secret: SECRET, publicKeys: [publicKey] }, now: () => now, ...extra });
    await expect(verifier(T0 + 2000 + 29_000).verify(token)).resolves.toMatchObject({ repo: 'r' });
    expect(await reasonOf(verifier(T0 + 2000 + 30_000).verify(token))).toBe('expired');
    expect(await reasonOf(verifier(T0 + 2000, { clockToleranceSeconds: 0 }).verify(token))).toBe('expired');
  });

  it('refuses tokens issued in the future', async () => {
    const { token } = await hs(T0 + 120_000).mint({ repo: 'r' });
    expect(await reasonOf(hs(T0).verify(token))).toBe('not-yet-valid');
  });

  it('refuses tokens living longer than the maximum, whoever minted them', async () => {
    const key = new TextEncoder().encode(SECRET);
    const svc = hs(T0, { maxTtlSeconds: 3600 });
    const ok = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { exp: S0 + 3600 });
    await expect(svc.verify(ok)).resolves.toMatchObject({ exp: S0 + 3600 });
    const long = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { exp: S0 + 3601 });
    expect(await reasonOf(svc.verify(long))).toBe('lifetime');
    // A long-lived token minted with an old iat (so it is "fresh" by exp) is refused too.
    const old = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { iat: S0 - 7200, exp: S0 + 60 });
    expect(await reasonOf(svc.verify(old))).toBe('lifetime');
    const backwards = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { exp: S0 });
    expect((await refused(hs(T0 - 10_000).verify(backwards))).details.reason).toBe('lifetime');
  });

  it('refuses tokens without exp, iat or jti', async () => {
    const key = new TextEncoder().encode(SECRET);
    const noExp = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { exp: null });
    expect(await reasonOf(hs().verify(noExp))).toBe('claims');
    const noJti = await external(key, 'HS256', { repo: 'r', scope: 'git:read' }, { jti: null });
    expect(await reasonOf(hs().verify(noJti))).toBe('claims');
    const textIat = forgeHs({ repo: 'r', scope: 'git:read', iat: 'yesterday', exp: S0 + 60, jti: 'x' });
    expect(await reasonOf(hs().verify(textIat))).toBe('claims');
    const noIat = await new SignJWT({ repo: 'r', scope: 'git:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(S0 + 60)
      .setJti('x')
      .sign(key);
    expect(await reasonOf(hs().verify(noIat))).toBe('claims');
  });

  it('refuses unknown scopes and malformed level-git claims', async () => {
    const key = new TextEncoder().encode(SECRET);
    const payloads: Record<string, unknown>[] = [
      { repo: 'r', scope: 'git:read admin' },
      { repo: 'r', scope: '' },
      { repo: 'r', scope: 'git:read  git:write' },
      { repo: 'r', scope: ['git:read'] },
      { repo: 'r' },
      { scope: 'git:read' },
      { repo: '', scope: 'git:read' },
      { repo: 'r', scope: 'git:read', ephemeral: 'true' },
      { repo: 'r', scope: 'git:read', refs: [['refs/heads/main', ['rewrite']]] },
      { repo: 'r', scope: 'git:read', refs: [['main', []]] },
      { repo: 'r', scope: 'git:read', refs: 'refs/heads/main' },
      { repo: 'r', scope: 'git:read', refs: [['refs/heads/../x', []]] },
    ];
    for (const p of payloads) {
      const token = await external(key, 'HS256', p);
      expect(await reasonOf(hs().verify(token)), JSON.stringify(p)).toBe('claims');
    }
  });

  it('refuses alg none and algorithms it was not configured for', async () => {
    const payload = { repo: 'r', scope: 'git:write', iat: S0, exp: S0 + 60, jti: 'x' };
    expect(await reasonOf(hs().verify(forge({ alg: 'none' }, payload)))).toBe('malformed');
    expect(await reasonOf(hs().verify(forge({ alg: 'none' }, payload, 'AAAA')))).toBe('algorithm');
    expect(await reasonOf(hs().verify(forge({ alg: 'HS512' }, payload, 'AAAA')))).toBe('algorithm');
    expect(await reasonOf(hs().verify(forge({ alg: 'ES256' }, payload, 'AAAA')))).toBe('algorithm');
    expect(await reasonOf(hs().verify(forge({ typ: 'JWT' }, payload, 'AAAA')))).toBe('algorithm');
  });

  it('refuses revoked tokens and fails closed when the deny-list cannot answer', async () => {
    const deny = createDenyList({ now: () => T0 });
    const svc = hs(T0, { isRevoked: (jti) => deny.isRevoked(jti) });
    const a = await svc.mint({ repo: 'r' });
    const b = await svc.mint({ repo: 'r' });
    deny.revoke(a.claims.jti, a.claims.exp);
    expect(await reasonOf(svc.verify(a.token))).toBe('revoked');
    await expect(svc.verify(b.token)).resolves.toMatchObject({ jti: b.claims.jti });
    const broken = hs(T0, { isRevoked: async () => Promise.reject(new Error('store down')) });
    expect(await reasonOf(broken.verify(b.token))).toBe('revoked');
  });

  it('checks issuer and audience when configured', async () => {
    const svc = createTokenService({ keys: { secret: SECRET, issuer: 'https://app', audience: 'level-git' }, now: () => T0 });
    const { token } = await svc.mint({ repo: 'r' });
    expect(decodeJwt(token)).toMatchObject({ iss: 'https://app', aud: 'level-git' });
    await expect(svc.verify(token)).resolves.toMatchObject({ repo: 'r' });
    const plain = await hs().mint({ repo: 'r' });
    expect(await reasonOf(svc.verify(plain.token))).toBe('claims');
  });

  it('answers every hostile string with UnauthorizedError, never something else', async () => {
    const svc = hs();
    const segment = fc.string({ unit: fc.constantFrom(...'AZaz09-_.='.split('')), maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          segment,
          fc.tuple(segment, segment, segment).map((p) => p.join('.')),
        ),
        async (s) => {
          await refused(svc.verify(s));
        },
      ),
      { numRuns: 300 },
    );
    const valid = (await svc.mint({ repo: 'r' })).token;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: valid.length - 1 }), fc.constantFrom(...'AQgw_-.'.split('')), async (i, c) => {
        fc.pre(valid[i] !== c);
        const mutated = valid.slice(0, i) + c + valid.slice(i + 1);
        // The last character of a base64url segment carries unused low bits: a change there
        // that decodes to the same bytes is the same token, not a tampered one.
        const bytes = (t: string) =>
          t
            .split('.')
            .map((p) => Buffer.from(p, 'base64url').toString('hex'))
            .join('.');
        fc.pre(mutated.split('.').length !== 3 || bytes(mutated) !== bytes(valid));
        await refused(svc.verify(mutated));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses over-long tokens before decoding them', async () => {
    expect(await reasonOf(hs().verify('a'.repeat(10_000_000)))).toBe('malformed');
    expect(await reasonOf(hs().verify(''))).toBe('missing');
  });

  it('validates its options', () => {
    const bad: unknown[] = [
      { keys: {} },
      { keys: { secret: 'short' } },
      { keys: { secret: SECRET }, maxTtlSeconds: 0 },
      { keys: { secret: SECRET }, maxTtlSeconds: 60, defaultTtlSeconds: 120 },
      { keys: { secret: SECRET }, clockToleranceSeconds: -1 },
      { keys: { secret: SECRET, algorithm: 'RS256' } },
      { keys: { secret: SECRET, algorithm: 'ES256' } },
      { keys: { publicKeys: [], algorithm: 'HS256' } },
      { keys: { secret: SECRET, privateKey: 'x', algorithm: 'HS256' } },
    ];
    for (const o of bad) expect(() => createTokenService(o as never), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('ES256 and EdDSA tokens minted elsewhere', () => {
  const cases = [
    { alg: 'ES256', gen: () => generateKeyPair('ES256', { extractable: true }) },
    { alg: 'EdDSA', gen: () => generateKeyPair('EdDSA', { extractable: true }) },
  ] as const;

  for (const { alg, gen } of cases) {
    it(`${alg}: verifies with only the public key, in every accepted form`, async () => {
      const { privateKey, publicKey } = await gen();
      const token = await external(privateKey, alg, { repo: 'acme/api', scope: 'git:read git:write', refs: [['refs/heads/main', ['no-force-push']]] });
      const forms = [publicKey, await exportSPKI(publicKey), await exportJWK(publicKey)];
      for (const form of forms) {
        const svc = createTokenService({ keys: { publicKeys: [form] }, now: () => T0 });
        await expect(svc.verify(token)).resolves.toEqual({
          repo: 'acme/api',
          permissions: ['git:read', 'git:write'],
          refs: [['refs/heads/main', ['no-force-push']]],
          iat: S0,
          exp: S0 + 600,
          jti: 'ext-1',
        });
        await expect(svc.mint({ repo: 'acme/api' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      }
    });

    it(`${alg}: refuses a token signed by another key, and a tampered one`, async () => {
      const a = await gen();
      const b = await gen();
      const svc = createTokenService({ keys: { publicKeys: a.publicKey }, now: () => T0 });
      const foreign = await external(b.privateKey, alg, { repo: 'r', scope: 'git:read' });
      expect(await reasonOf(svc.verify(foreign))).toBe('signature');
      const own = await external(a.privateKey, alg, { repo: 'r', scope: 'git:read' });
      const [h, , s] = own.split('.');
      const forged = `${h}.${base64url.encode(JSON.stringify({ repo: 'other', scope: 'git:read', iat: S0, exp: S0 + 60, jti: 'j' }))}.${s}`;
      expect(await reasonOf(svc.verify(forged))).toBe('signature');
    });

    it(`${alg}: signs with a private key (PEM or JWK) and verifies with its public half`, async () => {
      const { privateKey, publicKey } = await gen();
      for (const pk of [privateKey, await exportPKCS8(privateKey), { ...(await exportJWK(privateKey)), kid: 'k1' }]) {
        const signer = createTokenService({ keys: { privateKey: pk }, now: () => T0 });
        const { token } = await signer.mint({ repo: 'r', permissions: ['git:write'] });
        expect(decodeProtectedHeader(token).alg).toBe(alg);
        await expect(signer.verify(token)).resolves.toMatchObject({ repo: 'r' });
        const verifier = createTokenService({ keys: { publicKeys: [publicKey] }, now: () => T0 });
        await expect(verifier.verify(token)).resolves.toMatchObject({ permissions: ['git:read', 'git:write'] });
      }
    });
  }

  it('accepts Node KeyObjects and the Ed25519 algorithm name', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const svc = createTokenService({ keys: { publicKeys: [ec.publicKey, ed.publicKey] }, now: () => T0 });
    await expect(svc.verify(await external(ec.privateKey, 'ES256', { repo: 'r', scope: 'git:read' }))).resolves.toMatchObject({ repo: 'r' });
    await expect(svc.verify(await external(ed.privateKey, 'EdDSA', { repo: 'r', scope: 'git:read' }))).resolves.toMatchObject({ repo: 'r' });
    await expect(svc.verify(await external(ed.privateKey, 'Ed25519', { repo: 'r', scope: 'git:read' }))).resolves.toMatchObject({ repo: 'r' });
    const signer = createTokenService({ keys: { privateKey: ed.privateKey }, now: () => T0 });
    await expect(svc.verify((await signer.mint({ repo: 'r' })).token)).resolves.toMatchObject({ repo: 'r' });
  });

  it('tries every trusted key (rotation) and prefers the one named by kid', async () => {
    const old = await generateKeyPair('ES256');
    const cur = await generateKeyPair('ES256');
    const svc = createTokenService({
      keys: {
        publicKeys: [
          { ...(await exportJWK(old.publicKey)), kid: 'old' },
          { ...(await exportJWK(cur.publicKey)), kid: 'cur' },
        ],
      },
      now: () => T0,
    });
    await expect(svc.verify(await external(cur.privateKey, 'ES256', { repo: 'r', scope: 'git:read' }, { kid: 'cur' }))).resolves.toBeTruthy();
    await expect(svc.verify(await external(cur.privateKey, 'ES256', { repo: 'r', scope: 'git:read' }))).resolves.toBeTruthy();
    await expect(svc.verify(await external(old.privateKey, 'ES256', { repo: 'r', scope: 'git:read' }))).resolves.toBeTruthy();
    // A kid that names the wrong key does not let the token through another key's check.
    expect(await reasonOf(svc.verify(await external(old.privateKey, 'ES256', { repo: 'r', scope: 'git:read' }, { kid: 'cur' })))).toBe('signature');
  });

  it('refuses HS256 tokens keyed with a public key (algorithm confusion)', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const svc = createTokenService({ keys: { publicKeys: [pem] }, now: () => T0 });
    const confused = await external(new TextEncoder().encode(pem), 'HS256', { repo: 'r', scope: 'git:write' });
    expect(await reasonOf(svc.verify(confused))).toBe('algorithm');
  });

  it('rejects unsupported keys as configuration errors', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(createTokenService({ keys: { publicKeys: [rsa.publicKey] } }).verify('a.b.c')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const svc = createTokenService({ keys: { publicKeys: [privateKey] } });
    await expect(svc.verify('a.b.c')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const p384 = await generateKeyPair('ES384', { extractable: true });
    await expect(createTokenService({ keys: { privateKey: p384.privateKey } }).mint({ repo: 'r' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    await expect(createTokenService({ keys: { privateKey: ed.privateKey, algorithm: 'ES256' } }).mint({ repo: 'r' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('needs the public key when the private key is not extractable', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    await expect(createTokenService({ keys: { privateKey } }).mint({ repo: 'r' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const svc = createTokenService({ keys: { privateKey, publicKeys: [publicKey] }, now: () => T0 });
    await expect(svc.verify((await svc.mint({ repo: 'r' })).token)).resolves.toMatchObject({ repo: 'r' });
  });
});
