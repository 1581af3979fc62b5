import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ephemeralSource, expiresAt, isExpired, mergeEphemeralView } from '../../src/refs/space.js';
import { ttlFromPushOptions } from '../../src/repo/push-options.js';
import { createDenyList } from '../../src/access/revocation.js';

describe('mergeEphemeralView', () => {
  it('shows ephemeral refs over regular ones', () => {
    const regular = new Map([
      ['refs/heads/main', 'r-main'],
      ['refs/tags/v1', 'r-v1'],
    ]);
    const ephemeral = new Map([
      ['refs/heads/main', 'e-main'],
      ['refs/heads/agent', 'e-agent'],
    ]);
    expect([...mergeEphemeralView(regular, ephemeral)]).toEqual([
      ['refs/heads/agent', 'e-agent'],
      ['refs/heads/main', 'e-main'],
      ['refs/tags/v1', 'r-v1'],
    ]);
    expect(ephemeralSource('refs/heads/main', regular, ephemeral)).toBe('ephemeral');
    expect(ephemeralSource('refs/tags/v1', regular, ephemeral)).toBe('regular');
    expect(ephemeralSource('refs/heads/none', regular, ephemeral)).toBeNull();
  });

  it('agrees with a model for any two ref spaces', () => {
    const names = fc.constantFrom('refs/heads/a', 'refs/heads/b', 'refs/heads/a/b', 'refs/tags/t', 'refs/heads/Z', 'HEAD');
    const space = fc.array(fc.tuple(names, fc.nat()), { maxLength: 6 }).map((e) => new Map<string, number>(e));
    fc.assert(
      fc.property(space, space, (regular, ephemeral) => {
        const merged = mergeEphemeralView(regular, ephemeral);
        const keys = [...merged.keys()];
        expect(keys).toEqual([...new Set([...regular.keys(), ...ephemeral.keys()])].sort());
        for (const k of keys) expect(merged.get(k)).toBe(ephemeral.has(k) ? ephemeral.get(k) : regular.get(k));
        // the inputs are not changed
        expect(merged).not.toBe(regular);
      }),
    );
  });
});

describe('expiresAt', () => {
  const now = Date.UTC(2030, 0, 1);
  it('uses the request, clamped to the maximum, or the default', () => {
    expect(expiresAt(now, { defaultTtlSeconds: 3600, maxTtlSeconds: 86400 }).getTime()).toBe(now + 3600_000);
    expect(expiresAt(new Date(now), { defaultTtlSeconds: 3600, requestedTtlSeconds: 60, maxTtlSeconds: 86400 }).getTime()).toBe(now + 60_000);
    expect(expiresAt(now, { defaultTtlSeconds: 3600, requestedTtlSeconds: 10 ** 9, maxTtlSeconds: 86400 }).getTime()).toBe(now + 86400_000);
    expect(expiresAt(now, { defaultTtlSeconds: 7200, maxTtlSeconds: 3600 }).getTime()).toBe(now + 3600_000);
  });
  it('refuses nonsense lifetimes', () => {
    // One rule with the engine's (refs/space.ts): fractions are lifetimes too (the engine's
    // sweep test writes a 1.5 s ref), and an endless request gets the maximum.
    expect(expiresAt(now, { defaultTtlSeconds: 60, requestedTtlSeconds: 1.5, maxTtlSeconds: 60 }).getTime()).toBe(now + 1500);
    expect(expiresAt(now, { defaultTtlSeconds: 60, requestedTtlSeconds: Infinity, maxTtlSeconds: 60 }).getTime()).toBe(now + 60_000);
    for (const t of [0, -1, Number.NaN]) {
      expect(() => expiresAt(now, { defaultTtlSeconds: 60, requestedTtlSeconds: t, maxTtlSeconds: 60 })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => expiresAt(now, { defaultTtlSeconds: t, maxTtlSeconds: 60 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    expect(() => expiresAt(Number.NaN, { defaultTtlSeconds: 60, maxTtlSeconds: 60 })).toThrow();
  });
  it('never exceeds now + max and never precedes now', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 7 }),
        fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: undefined }),
        fc.integer({ min: 1, max: 10 ** 7 }),
        (def, req, max) => {
          const t = expiresAt(now, { defaultTtlSeconds: def, requestedTtlSeconds: req, maxTtlSeconds: max }).getTime();
          expect(t).toBeGreaterThan(now);
          expect(t).toBeLessThanOrEqual(now + max * 1000);
          expect(isExpired(t, now)).toBe(false);
          expect(isExpired(t, t)).toBe(true);
        },
      ),
    );
  });
});

describe('ttlFromPushOptions', () => {
  it('reads the last ttl= option', () => {
    expect(ttlFromPushOptions([])).toBeUndefined();
    expect(ttlFromPushOptions(['ci.skip', 'ttl=600'])).toBe(600);
    expect(ttlFromPushOptions(['ttl=600', 'ttl=60'])).toBe(60);
  });
  it('refuses malformed values', () => {
    for (const v of ['ttl=', 'ttl=0', 'ttl=-5', 'ttl=1e3', 'ttl=10s', 'ttl= 5', 'ttl=99999999999']) {
      expect(() => ttlFromPushOptions([v]), v).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});

describe('createDenyList', () => {
  it('revokes until the token would have expired anyway, then forgets', () => {
    let t = 1_000_000_000_000;
    const deny = createDenyList({ now: () => t, clockToleranceSeconds: 30 });
    const exp = t / 1000 + 60;
    deny.revoke('a', exp);
    deny.revoke('old', t / 1000 - 31); // already beyond exp + tolerance: not stored
    expect(deny.isRevoked('a')).toBe(true);
    expect(deny.isRevoked('b')).toBe(false);
    expect(deny.size()).toBe(1);
    t += 89_000;
    expect(deny.isRevoked('a')).toBe(true);
    t += 1_000;
    expect(deny.isRevoked('a')).toBe(false);
    expect(deny.size()).toBe(0);
    expect(() => deny.revoke('', exp)).toThrow();
  });
});
