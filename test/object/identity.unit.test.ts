/**
 * Identities: the `Name <email> seconds +zone` lines of commits and tags (parseIdentity /
 * formatIdentity in src/object/commit.ts) and the normalization of the caller's PersonInput
 * by `Repository.commit` (Date or seconds, "+0100" or minutes east of UTC, defaults).
 */
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidObjectError } from '../../src/errors.js';
import { openEngine, type Engine, type PersonInput, type Repository } from '../../src/index.js';
import { formatIdentity, parseIdentity, type Identity } from '../../src/object/commit.js';

const PROPS = { seed: 8_023, numRuns: 500 } as const;

// What formatIdentity accepts: no < > newline NUL in name or email, a non-negative safe integer, a ±HHMM zone.
const safeText = fc.string({ maxLength: 20 }).filter((s) => !/[<>\n\0]/.test(s));
const identity: fc.Arbitrary<Identity> = fc.record({
  name: safeText,
  email: safeText,
  timestamp: fc.oneof(fc.constantFrom(0, 1_700_000_000, Number.MAX_SAFE_INTEGER), fc.nat()),
  timezone: fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 9999 })).map(([s, n]) => s + String(n).padStart(4, '0')),
});

describe('parseIdentity / formatIdentity', () => {
  it('every identity formatIdentity writes parses back to itself', () => {
    fc.assert(
      fc.property(identity, (id) => {
        expect(parseIdentity(formatIdentity(id))).toEqual(id);
      }),
      PROPS,
    );
  });

  it('reads the strict form', () => {
    expect(parseIdentity('A U Thor <author@example.com> 1700000000 -0130')).toEqual({
      name: 'A U Thor',
      email: 'author@example.com',
      timestamp: 1_700_000_000,
      timezone: '-0130',
    });
    expect(parseIdentity(' <> 0 +0000')).toEqual({ name: '', email: '', timestamp: 0, timezone: '+0000' });
    expect(parseIdentity('Two  Spaces  <e> 5 +0000').name).toBe('Two  Spaces ');
  });

  it('reads the malformed identities real histories hold instead of refusing them', () => {
    expect(parseIdentity('NoSpace<a@b> 12 +0100')).toEqual({ name: 'NoSpace', email: 'a@b', timestamp: 12, timezone: '+0100' });
    expect(parseIdentity('No Date <a@b>')).toEqual({ name: 'No Date', email: 'a@b', timestamp: 0, timezone: '+0000' });
    expect(parseIdentity('Odd Zone <a@b> 12 CEST')).toEqual({ name: 'Odd Zone', email: 'a@b', timestamp: 12, timezone: '+0000' });
    expect(parseIdentity('Unclosed <a@b 12 +0100').email).toBe('a@b 12 +0100');
  });

  it('refuses text without an <email> part', () => {
    for (const s of ['', 'Name only', 'Name 1700000000 +0000', 'a@b.c 1 +0000']) expect(() => parseIdentity(s), s).toThrow(InvalidObjectError);
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('<')),
        (s) => {
          expect(() => parseIdentity(s)).toThrow(InvalidObjectError);
        },
      ),
      PROPS,
    );
  });

  it('never throws anything but InvalidObjectError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          const id = parseIdentity(s);
          expect(typeof id.name).toBe('string');
          expect(Number.isFinite(id.timestamp)).toBe(true);
          expect(id.timezone).toMatch(/^[+-]\d{4}$/);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidObjectError);
        }
      }),
      PROPS,
    );
  });

  it('refuses to write what would break the line', () => {
    const ok: Identity = { name: 'A', email: 'a@b', timestamp: 1, timezone: '+0000' };
    const bad: Partial<Identity>[] = [
      { name: 'A <x>' },
      { name: 'A\nB' },
      { name: 'A\0' },
      { email: 'a>b' },
      { email: '<a' },
      { timestamp: -1 },
      { timestamp: 1.5 },
      { timestamp: Number.MAX_SAFE_INTEGER + 1 },
      { timestamp: NaN },
      { timezone: '0000' },
      { timezone: '+000' },
      { timezone: '+00000' },
      { timezone: 'UTC' },
    ];
    for (const b of bad) expect(() => formatIdentity({ ...ok, ...b }), JSON.stringify(b)).toThrow(InvalidArgumentError);
    expect(formatIdentity(ok)).toBe('A <a@b> 1 +0000');
  });
});

describe('PersonInput normalization (Repository.commit)', () => {
  let db: MemoryLevel;
  let engine: Engine;
  let repo: Repository;
  let n = 0;
  beforeAll(async () => {
    db = new MemoryLevel();
    engine = await openEngine({ db });
    repo = await engine.createRepo('people');
  });
  afterAll(async () => {
    await engine.close();
    await db.close();
  });

  /** Commits with `author` (and `committer`), returns both as the log reads them back. */
  async function roundTrip(author: PersonInput, committer?: PersonInput): Promise<{ author: Identity; committer: Identity }> {
    const { sha } = await repo.commit({ branch: 'main', message: `c${n}`, author, committer, changes: [{ path: 'f', content: `${n++}` }] });
    const [entry] = await repo.log(sha, { limit: 1 });
    return { author: entry!.author, committer: entry!.committer };
  }

  it('keeps an explicit identity as given', async () => {
    const p = { name: 'Ann', email: 'ann@example.com', timestamp: 1_700_000_000, timezone: '-0330' };
    expect((await roundTrip(p)).author).toEqual(p);
  });

  it('turns minutes east of UTC into ±HHMM', async () => {
    const cases: [number, string][] = [
      [0, '+0000'],
      [60, '+0100'],
      [90, '+0130'],
      [-330, '-0530'],
      [-0, '+0000'],
      [840, '+1400'],
      [-720, '-1200'],
      [45, '+0045'],
    ];
    for (const [minutes, zone] of cases) {
      expect((await roundTrip({ name: 'Z', email: 'z@z', timestamp: 1, timezone: minutes })).author.timezone, String(minutes)).toBe(zone);
    }
  });

  it('takes seconds from a Date, rounding down', async () => {
    const { author } = await roundTrip({ name: 'D', email: 'd@d', timestamp: new Date(1_700_000_000_999) });
    expect(author.timestamp).toBe(1_700_000_000);
  });

  it('defaults the time to now, the zone to +0000, and the committer to the author', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { author, committer } = await roundTrip({ name: 'Now', email: 'now@example.com' });
    const after = Math.floor(Date.now() / 1000);
    expect(author.timestamp).toBeGreaterThanOrEqual(before);
    expect(author.timestamp).toBeLessThanOrEqual(after);
    expect(author.timezone).toBe('+0000');
    expect(committer).toEqual(author);
  });

  it('keeps a separate committer', async () => {
    const c = { name: 'Bot', email: 'bot@example.com', timestamp: 5, timezone: '+0200' };
    const r = await roundTrip({ name: 'Ann', email: 'a@a', timestamp: 4, timezone: '+0000' }, c);
    expect(r.committer).toEqual(c);
    expect(r.author.name).toBe('Ann');
  });

  it('refuses what cannot be written as an identity line', async () => {
    const bad: unknown[] = [
      null,
      'Ann <a@a>',
      {},
      { name: 'A' },
      { email: 'a@a' },
      { name: '', email: 'a@a' },
      { name: 1, email: 'a@a' },
      { name: 'A<', email: 'a@a' },
      { name: 'A', email: 'a>' },
      { name: 'A\n', email: 'a' },
      { name: 'A', email: 'a', timestamp: -1 },
      { name: 'A', email: 'a', timestamp: 1.5 },
      { name: 'A', email: 'a', timestamp: new Date(-1000) },
      { name: 'A', email: 'a', timestamp: 1, timezone: 'UTC' },
      { name: 'A', email: 'a', timestamp: 1, timezone: 90.5 },
      { name: 'A', email: 'a', timestamp: 1, timezone: 100 * 60 },
    ];
    const tip = (await repo.listBranches()).find((b) => b.name === 'main')?.sha;
    for (const author of bad) {
      await expect(
        repo.commit({ branch: 'main', message: 'x', author: author as PersonInput, changes: [{ path: 'f', content: 'bad' }] }),
        JSON.stringify(author),
      ).rejects.toThrow(InvalidArgumentError);
    }
    expect((await repo.listBranches()).find((b) => b.name === 'main')?.sha).toBe(tip);
  });
});
