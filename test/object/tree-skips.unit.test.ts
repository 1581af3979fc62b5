/**
 * `FsckSession.scanTree` over a tree delta passes over the entries that are its base's (the
 * base scanned clean earlier in the session, the runs from pack/delta.ts `deltaCopies`), and
 * answers exactly as a scan of the same body with nothing passed over: the same report, the same
 * error; the entries it did not visit are all entries of the base. Chains of deltas (a tree
 * scanned with passes becomes the base of the next) and copies that do not start at one of the
 * base's entries (a gitlink's id hiding entries) included.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FsckSession } from '../../src/object/fsck.js';
import { createDelta, deltaCopies } from '../../src/pack/delta.js';
import { ScannedTrees } from '../../src/object/tree-skips.js';
import { concat, utf8 } from '../../src/platform/bytes.js';

const MODES = ['100644', '100644', '100644', '100755', '120000', '40000', '160000', '100664', '040000'];
const NAMES = ['a', 'a.b', 'a-b', 'b', '.gitmodules', '.gitattributes', '.git', 'git~1', 'x\\.git', '..', 'é'];
const ID = fc.oneof({ weight: 30, arbitrary: fc.uint8Array({ minLength: 20, maxLength: 20 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(20)) });
const entryArb = fc.record({
  mode: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('100644', '100755', '40000') }, { weight: 1, arbitrary: fc.constantFrom(...MODES) }),
  name: fc.oneof({ weight: 30, arbitrary: fc.stringMatching(/^[a-z0-9._-]{1,12}$/) }, { weight: 1, arbitrary: fc.constantFrom(...NAMES) }),
  id: ID,
});
type Entry = { mode: string; name: string; id: Uint8Array };

const body = (list: Entry[]) => concat(list.map((e) => concat([utf8(`${e.mode} ${e.name}\0`), e.id])));
const byName = (x: Entry, y: Entry) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);

/** Entry byte ranges of a body a scan visited: [start, end). */
type Seen = [number, number];

function scan(session: FsckSession, b: Uint8Array, tree?: { key: number; base?: number; copies?: Int32Array }): { out: unknown; seen: Seen[] } {
  const seen: Seen[] = [];
  try {
    const report = session.scanTree(b, (at, _kind, s) => seen.push([s, at + 20]), tree);
    return { out: { report }, seen };
  } catch (err) {
    return { out: { error: (err as Error).message }, seen };
  }
}

/** The entries of a clean tree body as [start, end) ranges (none when it does not parse). */
function entriesOf(b: Uint8Array): Seen[] {
  const out: Seen[] = [];
  let i = 0;
  while (i < b.length) {
    const nul = b.indexOf(0, i);
    if (nul < 0 || nul + 21 > b.length) return [];
    out.push([i, nul + 21]);
    i = nul + 21;
  }
  return out;
}

/** Scans `base` then each of `chain` as a delta of the one before, beside fresh scans of each. */
function compareChain(base: Uint8Array, chain: Uint8Array[], copiesOf: (from: Uint8Array, to: Uint8Array) => Int32Array | undefined): number {
  const session = new FsckSession({ strict: true });
  scan(session, base, { key: 0 });
  let prev = base;
  for (const [i, next] of chain.entries()) {
    const copies = copiesOf(prev, next);
    const passed = scan(session, next, { key: i + 1, base: i, copies });
    const fresh = scan(new FsckSession({ strict: true }), next);
    expect(passed.out).toEqual(fresh.out);
    // Whatever was not visited is an entry of the base, byte for byte.
    const visited = new Set(passed.seen.map(([, end]) => end));
    const baseEntries = new Set(entriesOf(prev).map(([s, e]) => Buffer.from(prev.subarray(s, e)).toString('hex')));
    const nextEntries = entriesOf(next);
    for (const [, end] of fresh.seen) {
      if (visited.has(end)) continue;
      const whole = nextEntries.find(([, e]) => e === end);
      expect(whole).toBeDefined();
      expect(baseEntries.has(Buffer.from(next.subarray(whole![0], whole![1])).toString('hex'))).toBe(true);
    }
    prev = next;
  }
  return session.skippedEntries;
}

const viaDelta = (from: Uint8Array, to: Uint8Array) => deltaCopies(createDelta(from, to));

/**
 * Scans `base`, then `target` as its delta in the same session (the runs of a delta between
 * them unless given), and `target` alone in a fresh session: what each answered.
 */
function asDeltaOf(base: Uint8Array, target: Uint8Array, copies = viaDelta(base, target)): { session: FsckSession; passed: unknown; fresh: unknown } {
  const session = new FsckSession({ strict: true });
  scan(session, base, { key: 0 });
  const passed = scan(session, target, { key: 1, base: 0, copies }).out;
  return { session, passed, fresh: scan(new FsckSession({ strict: true }), target).out };
}

describe('FsckSession.scanTree with a base', () => {
  it('answers as a scan with nothing passed over, over chains of edited trees', () => {
    let skipped = 0;
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(fc.tuple(fc.nat(), fc.constantFrom('id', 'mode', 'drop', 'add', 'rename')), { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        entryArb,
        fc.boolean(),
        (first, edits, added, sorted) => {
          const order = (l: Entry[]) => (sorted ? [...l].sort(byName) : l);
          let list = order(first);
          const chain: Uint8Array[] = [];
          for (const step of edits) {
            const next = list.map((e) => ({ ...e }));
            for (const [at, what] of step) {
              const k = at % next.length;
              if (what === 'id') next[k]!.id = next[k]!.id.map((x) => x ^ 0x5a);
              else if (what === 'mode') next[k]!.mode = MODES[at % MODES.length]!;
              else if (what === 'drop' && next.length > 1) next.splice(k, 1);
              else if (what === 'add') next.splice(k, 0, added);
              else if (what === 'rename') next[k]!.name = added.name;
            }
            list = order(next);
            chain.push(body(list));
          }
          skipped += compareChain(body(order(first)), chain, viaDelta);
        },
      ),
      { numRuns: 1500 },
    );
    // Not vacuous: many entries were passed over.
    expect(skipped).toBeGreaterThan(300);
  });

  it('passes over the unchanged entries of a large tree, and still refuses what changed', () => {
    const id = (k: number) => new Uint8Array(20).fill((k % 250) + 1);
    const list: Entry[] = Array.from({ length: 300 }, (_, k) => ({ mode: '100644', name: `file${String(k).padStart(4, '0')}`, id: id(k) }));
    const edited = list.map((e, k) => (k === 150 ? { ...e, id: id(7) } : e));
    expect(compareChain(body(list), [body(edited)], viaDelta)).toBeGreaterThan(290);
    // A new entry named `.git` in the middle, a duplicate, an entry out of order: refused alike.
    for (const bad of [
      [...edited.slice(0, 10), { mode: '40000', name: '.git', id: id(1) }, ...edited.slice(10)],
      [...edited.slice(0, 10), edited[10]!, ...edited.slice(10)],
      [...edited.slice(0, 10), edited[200]!, ...edited.slice(10)],
      [...edited.slice(0, 150), { mode: '100644', name: 'file0149a', id: id(3) }, ...edited.slice(150)],
    ]) {
      const { passed, fresh } = asDeltaOf(body(list), body(bad));
      expect(passed).toEqual(fresh);
    }
  });

  it("keeps git's check of a file and a tree of one name apart across passed-over entries", () => {
    const id = new Uint8Array(20).fill(9);
    const pad = Array.from({ length: 8 }, (_, k) => ({ mode: '100644', name: `a.${k}`, id }));
    // The base has no file waiting for a tree of its name; the tree adds "a" (a file) before
    // entries it shares with the base, which end with "a" (a tree): git's duplicate.
    const base = body([{ mode: '100644', name: '0', id }, ...pad, { mode: '40000', name: 'a', id }, { mode: '100644', name: 'b', id }]);
    const target = body([
      { mode: '100644', name: '0', id },
      { mode: '100644', name: 'a', id },
      ...pad,
      { mode: '40000', name: 'a', id },
      { mode: '100644', name: 'b', id },
    ]);
    const { passed, fresh } = asDeltaOf(base, target);
    expect(passed).toEqual(fresh);
    expect(JSON.stringify(passed)).toContain('duplicateEntries');
  });

  it('remembers no tree that left a file waiting for a tree of its name', () => {
    const id = new Uint8Array(20).fill(9);
    const pad = Array.from({ length: 8 }, (_, k) => ({ mode: '100644', name: `a.${k}`, id }));
    // The base: "a" (a file), then names it is a prefix of; the tree adds "a" (a tree) after them.
    const base = body([{ mode: '100644', name: 'a', id }, ...pad, { mode: '100644', name: 'b', id }]);
    const target = body([{ mode: '100644', name: 'a', id }, ...pad, { mode: '40000', name: 'a', id }, { mode: '100644', name: 'b', id }]);
    const { passed, fresh } = asDeltaOf(base, target);
    expect(passed).toEqual(fresh);
    expect(JSON.stringify(passed)).toContain('duplicateEntries');
  });

  it('vouches for nothing where a copy does not start at an entry of the base (entries hidden in a gitlink id)', () => {
    // The base: "a" (its id spells an entry "c"), "g" a gitlink whose id begins with an entry
    // named ".git", then a file whose name holds the tail that ends the hidden entries.
    const idA = concat([utf8('100644 c\0'), new Uint8Array(11).fill(0x6b)]);
    const idG = concat([utf8('40000 .git\0'), new Uint8Array(9).fill(0x6b)]);
    const base = concat([utf8('100644 a\0'), idA, utf8('160000 g\0'), idG, utf8('100644 zzzz100644 q\0'), new Uint8Array(20).fill(1)]);
    expect(scan(new FsckSession({ strict: true }), base).out).toMatchObject({ report: { ok: true, problems: [] } });
    // The tree: the base's bytes from inside the first id, copied whole: "c", ".git", "q".
    const target = base.subarray(9);
    const { session, passed, fresh } = asDeltaOf(base, target, Int32Array.of(0, target.length, 9));
    expect(passed).toEqual(fresh);
    expect(passed).toHaveProperty('error');
    expect(session.skippedEntries).toBe(0);
  });

  it('remembers only clean trees', () => {
    const id = new Uint8Array(20).fill(4);
    const warned = body([{ mode: '100664', name: 'a', id }, ...Array.from({ length: 9 }, (_, k) => ({ mode: '100644', name: `b${k}`, id }))]);
    const next = body([
      { mode: '100664', name: 'a', id },
      ...Array.from({ length: 9 }, (_, k) => ({ mode: '100644', name: `b${k}`, id: k === 8 ? new Uint8Array(20).fill(5) : id })),
    ]);
    const { session, passed, fresh } = asDeltaOf(warned, next);
    expect(passed).toEqual(fresh);
    expect(JSON.stringify(passed)).toContain('badFilemode');
    expect(session.skippedEntries).toBe(0);
  });
});

describe('ScannedTrees', () => {
  it('answers every record it still holds with the starts it was given, within its ring', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 4, max: 64 }), fc.integer({ min: 16000, max: 70000 })),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 1000, max: 20000 })), { minLength: 1, maxLength: 60 }),
        (slots, sizes) => {
          const trees = new ScannedTrees(slots * 4);
          const given = new Map<number, Uint32Array>();
          sizes.forEach((n, i) => {
            const starts = Uint32Array.from({ length: n }, (_, k) => i * 1000 + k);
            trees.add(i, starts, [], n * 40);
            given.set(i, starts);
            let held = 0;
            for (const [id, want] of given) {
              const t = trees.get(id);
              if (t === undefined) continue;
              held += t.n;
              expect(t.length).toBe(want.length * 40);
              const got = trees.ring.subarray(t.at, t.at + t.n);
              if (got.length !== want.length || got.some((v, k) => v !== want[k])) expect(got).toEqual(want);
            }
            expect(held).toBeLessThanOrEqual(slots);
            // The newest is kept unless it is empty or larger than the ring.
            expect(trees.get(i) !== undefined).toBe(n > 0 && n <= slots);
            // Older ones are kept while the ring has room: every record among the newest that
            // fill the ring but for what two records may waste (the end a record did not fit at
            // when the ring came round, the rest of one overwritten in part).
            const largest = Math.max(...sizes.slice(0, i + 1).filter((m) => m <= slots));
            let newer = 0;
            for (let j = i; j >= 0; j--) {
              const m = sizes[j]!;
              if (m === 0 || m > slots) continue;
              newer += m;
              if (newer > slots - 2 * largest) break;
              expect(trees.get(j), `record ${j} of ${i}`).toBeDefined();
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });
  it('keeps its records right past thousands of them: keys with gaps, named entries, its columns moved and grown', () => {
    // Few records held (the columns are moved to their front), then many (they grow).
    for (const { slots, most } of [
      { slots: 100, most: 8 },
      { slots: 1000, most: 2 },
    ]) {
      const trees = new ScannedTrees(slots * 4);
      const keyOf = (i: number) => i * 3 + (i % 2);
      let seed = 7;
      const sizes: number[] = [];
      for (let i = 0; i < 5000; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = 1 + ((seed >>> 16) % most);
        sizes.push(n);
        trees.add(
          keyOf(i),
          Uint32Array.from({ length: n }, (_, k) => i * 10 + k),
          i % 7 === 0 ? [n - 1] : [],
          n * 40,
        );
        // The newest, up to what fills the ring but for two records' waste, are held as given.
        let newer = 0;
        for (let j = i; j >= 0; j--) {
          newer += sizes[j]!;
          if (newer > slots - 2 * most) break;
          const t = trees.get(keyOf(j));
          const ok =
            t !== undefined &&
            t.n === sizes[j] &&
            t.length === sizes[j]! * 40 &&
            t.named.length === (j % 7 === 0 ? 1 : 0) &&
            trees.ring.subarray(t.at, t.at + t.n).every((v, k) => v === j * 10 + k);
          if (!ok) expect({ slots, record: j, after: i, got: t }).toBeUndefined();
        }
        // Long gone: nothing; a key in a gap: nothing.
        if (i >= slots * 2) expect(trees.get(keyOf(i - slots * 2))).toBeUndefined();
        expect(trees.get(keyOf(i) + (i % 2 === 0 ? 1 : -2))).toBeUndefined();
      }
    }
    // Keys that are not non-negative integers are not recorded.
    const trees = new ScannedTrees(400);
    for (const key of [-1, 0.5, Number.NaN]) {
      trees.add(key, Uint32Array.of(1), [], 40);
      expect(trees.get(key)).toBeUndefined();
    }
  });
});
