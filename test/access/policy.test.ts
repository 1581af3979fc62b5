import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAccess, parseBasicAuth, refPolicyCheck, tokenFromHeaders } from '../../src/access/policy.js';
import { createTokenAuthorizer } from '../../src/http/authorize.js';
import { refPatternProblem, refPoliciesProblem } from '../../src/access/ref-policy.js';
import { createTokenService } from '../../src/access/tokens.js';
import type { RefOp, RefPolicy, TokenClaims } from '../../src/access/types.js';
import { ZERO_OID, type Oid } from '../../src/object/oid.js';
import type { RefUpdateInfo } from '../../src/protocol/backend.js';

const A = 'a'.repeat(40) as Oid;
const B = 'b'.repeat(40) as Oid;

function update(ref: string, kind: 'create' | 'ff' | 'force' | 'delete'): RefUpdateInfo {
  return {
    ref,
    oldOid: kind === 'create' ? ZERO_OID : A,
    newOid: kind === 'delete' ? ZERO_OID : B,
    create: kind === 'create',
    delete: kind === 'delete',
    force: kind === 'force',
  };
}

const basic = (s: string) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;

describe('parseBasicAuth', () => {
  it('reads user and password as git sends them', () => {
    expect(parseBasicAuth(basic('t:eyJhbGc.eyJyZXBv.c2ln'))).toEqual({ user: 't', password: 'eyJhbGc.eyJyZXBv.c2ln' });
    expect(parseBasicAuth(basic('user:pa:ss:word'))).toEqual({ user: 'user', password: 'pa:ss:word' });
    expect(parseBasicAuth(basic('tok:'))).toEqual({ user: 'tok', password: '' });
    expect(parseBasicAuth(basic(':'))).toEqual({ user: '', password: '' });
    expect(parseBasicAuth(basic('jörg:pässwörd'))).toEqual({ user: 'jörg', password: 'pässwörd' });
    expect(parseBasicAuth(`basic   ${Buffer.from('u:p').toString('base64')}  `)).toEqual({ user: 'u', password: 'p' });
  });

  it('answers null for anything else', () => {
    const bad = [
      null,
      '',
      'Basic',
      'Basic ',
      basic('no-colon'),
      'Basic !!!!',
      'Basic dTpw=', // bad padding length
      `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`, // not UTF-8
      `Bearer ${Buffer.from('u:p').toString('base64')}`,
      `Digest username="u"`,
      `Basic ${'QUFB'.repeat(10_000)}`,
    ];
    for (const h of bad) expect(parseBasicAuth(h), String(h).slice(0, 40)).toBeNull();
  });

  it('round-trips any user without a colon and any password', () => {
    fc.assert(
      fc.property(
        fc.string().filter((u) => !u.includes(':')),
        fc.string(),
        (user, password) => {
          expect(parseBasicAuth(basic(`${user}:${password}`))).toEqual({ user, password });
        },
      ),
    );
  });
});

describe('tokenFromHeaders', () => {
  const h = (v?: string) => new Headers(v === undefined ? {} : { Authorization: v });
  it('takes the password, or the user when the password is empty, or a bearer token', () => {
    expect(tokenFromHeaders(h(basic('t:TOKEN')))).toBe('TOKEN');
    expect(tokenFromHeaders(h(basic('anyone-at-all:TOKEN')))).toBe('TOKEN');
    expect(tokenFromHeaders(h(basic('TOKEN:')))).toBe('TOKEN');
    expect(tokenFromHeaders(h('Bearer a.b-c_d'))).toBe('a.b-c_d');
    expect(tokenFromHeaders(h('bearer xyz'))).toBe('xyz');
  });
  it('answers null without usable credentials', () => {
    for (const v of [undefined, basic(':'), 'Bearer', 'Bearer a b', 'Basic ###', 'Negotiate abc']) {
      expect(tokenFromHeaders(h(v)), String(v)).toBeNull();
    }
  });
});

describe('checkAccess', () => {
  const claims = (over: Partial<TokenClaims> = {}): TokenClaims => ({
    repo: 'acme/site',
    permissions: ['git:read'],
    iat: 0,
    exp: 1,
    jti: 'j',
    ...over,
  });

  it('allows reads for read tokens and writes only for write tokens', () => {
    expect(checkAccess(claims(), { repo: 'acme/site', action: 'read', ephemeral: false })).toEqual({ allow: true, ephemeral: false });
    expect(checkAccess(claims(), { repo: 'acme/site', action: 'write', ephemeral: false })).toEqual({
      allow: false,
      status: 403,
      message: 'this token is read-only',
    });
    const w = claims({ permissions: ['git:read', 'git:write'] });
    expect(checkAccess(w, { repo: 'acme/site', action: 'write', ephemeral: false })).toEqual({ allow: true, ephemeral: false });
    // write implies read even when a hand-built claims object lists only git:write
    expect(checkAccess(claims({ permissions: ['git:write'] }), { repo: 'acme/site', action: 'read', ephemeral: false }).allow).toBe(true);
  });

  it('refuses another repository with 403, or 404 when asked', () => {
    const r = checkAccess(claims(), { repo: 'acme/other', action: 'read', ephemeral: false });
    expect(r).toMatchObject({ allow: false, status: 403 });
    expect(checkAccess(claims(), { repo: 'acme/other', action: 'read', ephemeral: false }, { wrongRepoStatus: 404 })).toMatchObject({
      allow: false,
      status: 404,
    });
    // names are compared exactly
    expect(checkAccess(claims(), { repo: 'ACME/site', action: 'read', ephemeral: false }).allow).toBe(false);
    expect(checkAccess(claims(), { repo: 'acme/site/', action: 'read', ephemeral: false }).allow).toBe(false);
  });

  it('keeps an ephemeral-bound token in the ephemeral namespace', () => {
    const e = claims({ ephemeral: true, permissions: ['git:read', 'git:write'] });
    expect(checkAccess(e, { repo: 'acme/site', action: 'write', ephemeral: false })).toEqual({ allow: true, ephemeral: true });
    expect(checkAccess(e, { repo: 'acme/site', action: 'read', ephemeral: true })).toEqual({ allow: true, ephemeral: true });
    expect(checkAccess(claims(), { repo: 'acme/site', action: 'read', ephemeral: true })).toEqual({ allow: true, ephemeral: true });
  });
});

describe('refPolicyCheck', () => {
  it('applies the first matching policy', () => {
    const check = refPolicyCheck([
      ['refs/heads/agent/*', []],
      ['refs/heads/main', ['no-force-push']],
      ['refs/tags/*', ['no-push']],
      ['refs/*', ['no-push']],
    ]);
    expect(check(update('refs/heads/agent/x', 'force'))).toBeNull();
    expect(check(update('refs/heads/agent/x/y', 'delete'))).toBeNull();
    expect(check(update('refs/heads/main', 'ff'))).toBeNull();
    expect(check(update('refs/heads/main', 'force'))).toBe('non-fast-forward update of refs/heads/main is not allowed by this token');
    expect(check(update('refs/heads/main', 'delete'))).toBe('deleting refs/heads/main is not allowed by this token');
    expect(check(update('refs/tags/v1', 'create'))).toBe('pushing to refs/tags/v1 is not allowed by this token');
    expect(check(update('refs/heads/agent', 'create'))).toBe('pushing to refs/heads/agent is not allowed by this token');
    expect(check(update('refs/heads/main2', 'create'))).not.toBeNull();
  });

  it('allows everything without policies', () => {
    expect(refPolicyCheck(undefined)(update('refs/heads/main', 'delete'))).toBeNull();
    expect(refPolicyCheck([])(update('refs/heads/main', 'force'))).toBeNull();
  });

  it('is not affected by later changes to the policies passed in', () => {
    const p: RefPolicy[] = [['refs/heads/main', ['no-push']]];
    const check = refPolicyCheck(p);
    p[0]![1].length = 0;
    expect(check(update('refs/heads/main', 'ff'))).not.toBeNull();
  });

  // The model: split names into components; a glob matches refs with strictly more components
  // that start with the glob's own; then the op semantics, written out case by case.
  function modelDecision(policies: RefPolicy[], u: RefUpdateInfo): 'allow' | 'refuse' {
    const parts = u.ref.split('/');
    for (const [pattern, ops] of policies) {
      const pp = pattern.split('/');
      const matches = pp[pp.length - 1] === '*' ? parts.length >= pp.length && pp.slice(0, -1).every((c, i) => parts[i] === c) : pattern === u.ref;
      if (!matches) continue;
      if (ops.includes('no-push')) return 'refuse';
      if (ops.includes('no-force-push') && (u.force || u.delete)) return 'refuse';
      return 'allow';
    }
    return 'allow';
  }

  const component = fc.constantFrom('heads', 'tags', 'main', 'feature', 'x', 'agent', 'v1');
  const refName = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => `refs/${c.join('/')}`);
  const pattern = fc.oneof(
    refName,
    refName.map((r) => `${r}/*`),
    fc.constant('refs/*'),
  );
  const ops = fc.subarray<RefOp>(['no-push', 'no-force-push']);
  const policies = fc.array(fc.tuple(pattern, ops), { maxLength: 6 }).map((l) => l.map(([p, o]): RefPolicy => [p, o]));
  const kind = fc.constantFrom('create', 'ff', 'force', 'delete') as fc.Arbitrary<'create' | 'ff' | 'force' | 'delete'>;

  it('agrees with a simple model', () => {
    fc.assert(
      fc.property(policies, refName, kind, (ps, ref, k) => {
        expect(refPoliciesProblem(ps)).toBeNull();
        const u = update(ref, k);
        const got = refPolicyCheck(ps)(u);
        expect(got === null ? 'allow' : 'refuse').toBe(modelDecision(ps, u));
        if (got !== null) expect(got).toContain(ref);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ref policy validation', () => {
  it('accepts full names and prefix globs', () => {
    for (const p of ['refs/heads/main', 'refs/heads/feature/*', 'refs/*', 'refs/tags/v1.0', 'refs/heads/a-b_c']) {
      expect(refPatternProblem(p), p).toBeNull();
    }
  });
  it('refuses everything else', () => {
    const bad: unknown[] = [
      '',
      'main',
      'HEAD',
      'refs',
      'refs/',
      '*',
      'refs/heads/*/main',
      'refs/heads/fea*',
      'refs/heads/**',
      'refs//heads',
      'refs/heads/../main',
      'refs/heads/.hidden',
      'refs/heads/x.lock',
      'refs/heads/a b',
      'refs/heads/a\u0000',
      'refs/heads/x.',
      'refs/heads/a@{1}',
      'refs/heads/a~1',
      'refs/heads/a:b',
      'refs/heads/' + 'x'.repeat(300),
      42,
      null,
    ];
    for (const p of bad) expect(refPatternProblem(p), String(p)).not.toBeNull();
  });
  it('refuses malformed policy lists', () => {
    const bad: unknown[] = [
      null,
      'refs/*',
      [['refs/*']],
      [['refs/*', 'no-push']],
      [['refs/*', ['no-push'], 'extra']],
      [['refs/*', ['no-pull']]],
      [['refs/*', [1]]],
      [{ 0: 'refs/*', 1: [] }],
      Array.from({ length: 65 }, () => ['refs/*', []]),
    ];
    for (const v of bad) expect(refPoliciesProblem(v), JSON.stringify(v)?.slice(0, 60)).not.toBeNull();
    expect(refPoliciesProblem([])).toBeNull();
  });
});

describe('createTokenAuthorizer', () => {
  const SECRET = 'authorizer-secret-authorizer-secret-0123456789';
  const T0 = Date.UTC(2030, 0, 1);
  const tokens = createTokenService({ keys: { secret: SECRET }, now: () => T0 });
  const ctx = (headers: Headers, over: Partial<{ repo: string; action: 'read' | 'write'; ephemeral: boolean }> = {}) => ({
    repo: 'acme/site',
    action: 'read' as const,
    ephemeral: false,
    service: 'git-upload-pack' as const,
    headers,
    ...over,
  });

  it('401 without or with bad credentials', async () => {
    const authorize = createTokenAuthorizer(tokens);
    expect(await authorize(ctx(new Headers()))).toEqual({ allow: false, status: 401, message: 'authentication required' });
    expect(await authorize(ctx(new Headers({ authorization: basic('t:not-a-token') })))).toMatchObject({ allow: false, status: 401 });
    const other = createTokenService({ keys: { secret: SECRET + 'x' }, now: () => T0 });
    const { token } = await other.mint({ repo: 'acme/site' });
    expect(await authorize(ctx(new Headers({ authorization: basic(`t:${token}`) })))).toMatchObject({ allow: false, status: 401 });
  });

  it('allows, refuses and hands over the ref policy', async () => {
    const authorize = createTokenAuthorizer(tokens);
    const ro = (await tokens.mint({ repo: 'acme/site' })).token;
    const rw = (await tokens.mint({ repo: 'acme/site', permissions: ['git:write'], refs: [['refs/heads/main', ['no-force-push']]] })).token;
    const eph = (await tokens.mint({ repo: 'acme/site', permissions: ['git:write'], ephemeral: true })).token;
    const auth = (t: string) => new Headers({ authorization: basic(`x:${t}`) });

    expect(await authorize(ctx(auth(ro)))).toEqual({ allow: true, ephemeral: false });
    expect(await authorize(ctx(auth(ro), { action: 'write' }))).toEqual({ allow: false, status: 403, message: 'this token is read-only' });
    expect(await authorize(ctx(auth(ro), { repo: 'acme/other' }))).toMatchObject({ allow: false, status: 403 });
    expect(await createTokenAuthorizer(tokens, { wrongRepoStatus: 404 })(ctx(auth(ro), { repo: 'acme/other' }))).toMatchObject({ status: 404 });

    const w = await authorize(ctx(auth(rw), { action: 'write', service: 'git-receive-pack' } as never));
    expect(w.allow).toBe(true);
    if (!w.allow) throw new Error('unreachable');
    expect(w.policy?.(update('refs/heads/main', 'force'))).toMatch(/non-fast-forward/);
    expect(w.policy?.(update('refs/heads/other', 'force'))).toBeNull();

    const bearer = await authorize(ctx(new Headers({ authorization: `Bearer ${eph}` }), { action: 'write' }));
    expect(bearer).toEqual({ allow: true, ephemeral: true });
  });

  it('lets anonymous readers into repositories the application marks public', async () => {
    const authorize = createTokenAuthorizer(tokens, { anonymousRead: (repo) => repo === 'acme/public' });
    expect(await authorize(ctx(new Headers(), { repo: 'acme/public' }))).toEqual({ allow: true, ephemeral: false });
    expect(await authorize(ctx(new Headers(), { repo: 'acme/public', action: 'write' }))).toMatchObject({ status: 401 });
    expect(await authorize(ctx(new Headers(), { repo: 'acme/site' }))).toMatchObject({ status: 401 });
  });
});
