/**
 * Long tree walks read a tree stored as a delta of a tree they met whole from the delta alone
 * (repo/tree-shapes.ts): an entry copied whole from an entry start of the base is the base's
 * entry, met already, and only the others are parsed. Whatever the delta — git-like deltas,
 * crafted ones whose copies start in the middle of entries, split entries and ids across ops,
 * or copy a valid entry out of the middle of another — and however long the chain of deltas,
 * a walk must visit exactly what a scan of every entry of the rebuilt body visits, in the same
 * order; through the store (RawTrees.scanBatch) the same, whichever order bases come in.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { type Oid, hashObject, oidToBytes } from '../../src/object/oid.js';
import { toHex } from '../../src/platform/bytes.js';
import { applyDelta, createDelta } from '../../src/pack/delta.js';
import { type ShapeEntry, type TreeShape, bodyOf, deltaShape, wholeShape } from '../../src/repo/tree-shapes.js';
import { RawTrees } from '../../src/repo/tree-walk.js';
import { OidSet } from '../../src/repo/oid-set.js';
import { ObjectStore, createObjectCache } from '../../src/object/object-store.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { Kv } from '../../src/storage/kv.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { copyOp, varint } from '../pack/crafted-packs.js';
import { type Entry, MODES, encode, modelScan, parse, poolId } from './tree-bodies.js';

/** The same rule as a ShapeEntry (what RawTrees does, with raw ids). */
function shapeEntry(met: Set<string>, visit: (id: string, tree: boolean) => boolean): ShapeEntry {
  return (buf, start, sp, at) => {
    const mode = String.fromCharCode(...buf.subarray(start, sp));
    if (mode === '160000') return true;
    const id = toHex(buf.subarray(at, at + 20));
    if (met.has(id)) return true;
    if (!visit(id, mode === '40000' || mode === '040000')) return false;
    met.add(id);
    return true;
  };
}

/**
 * A delta building `target` from `base` in segments cut at `cuts`: each segment is copied from
 * the first place the base holds its bytes (wherever that is: the middle of an entry, of a
 * name, of an id), else inserted.
 */
function craftedDelta(base: Uint8Array, target: Uint8Array, cuts: number[]): Uint8Array {
  const bounds = [...new Set([0, ...cuts.map((c) => c % (target.length + 1)), target.length])].sort((a, b) => a - b);
  const ops: number[] = [...varint(base.length), ...varint(target.length)];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const seg = target.subarray(bounds[s]!, bounds[s + 1]!);
    const at = Buffer.from(base).indexOf(Buffer.from(seg));
    if (at >= 0 && seg.length > 0) ops.push(...copyOp(at, seg.length));
    else for (let k = 0; k < seg.length; k += 127) ops.push(Math.min(127, seg.length - k), ...seg.subarray(k, k + 127));
  }
  return Uint8Array.from(ops);
}

/** How a step builds its tree from an earlier one, and how it is stored. */
const step = fc.record({
  from: fc.nat(),
  kind: fc.constantFrom('fresh', 'edit', 'midEntry', 'same'),
  edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('id', 'drop', 'insert', 'rename', 'mode'), v: fc.nat(), id: fc.nat(40) }), {
    maxLength: 6,
  }),
  fresh: fc.array(fc.record({ mode: fc.constantFrom(...MODES), name: fc.stringMatching(/^[a-e. ]{1,6}$/), id: fc.nat(40) }), { maxLength: 12 }),
  stored: fc.constantFrom('whole', 'git', 'crafted'),
  base: fc.nat(),
  cut: fc.nat(),
  cuts: fc.array(fc.nat(400), { maxLength: 12 }),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  entries: Entry[];
  body: Uint8Array;
  /** Index of its delta base among earlier trees, and the delta (undefined: stored whole). */
  base?: number;
  delta?: Uint8Array;
}

/** The trees of some steps, each whole or a delta (git-like or crafted) of an earlier one. */
function buildTrees(steps: Step[]): Built[] {
  const trees: Built[] = [];
  for (const s of steps) {
    const prev = trees.length > 0 ? trees[s.from % trees.length]! : undefined;
    let entries: Entry[] = s.fresh.map((f) => ({ mode: f.mode, name: f.name, id: poolId(f.id) }));
    if (prev !== undefined && s.kind !== 'fresh') {
      entries = prev.entries.map((e) => ({ ...e }));
      for (const ed of s.kind === 'edit' ? s.edits : []) {
        const at = entries.length === 0 ? 0 : ed.at % entries.length;
        if (ed.op === 'insert' || entries.length === 0) entries.splice(at, 0, { mode: MODES[ed.v % MODES.length]!, name: `n${ed.v}`, id: poolId(ed.id) });
        else if (ed.op === 'drop') entries.splice(at, 1);
        else if (ed.op === 'id') entries[at]!.id = poolId(ed.id);
        else if (ed.op === 'rename') entries[at]!.name = `r${ed.v}`;
        else entries[at]!.mode = MODES[ed.v % MODES.length]!;
      }
    }
    if (prev !== undefined && s.kind === 'midEntry' && entries.length > 0 && prev.body.length >= 20) {
      // An id made of base bytes from wherever (the middle of an entry): a crafted delta copies it.
      const at = s.cut % (prev.body.length - 19);
      entries[s.cut % entries.length]!.id = prev.body.slice(at, at + 20);
    }
    const body = encode(entries);
    const built: Built = { entries, body };
    if (s.stored !== 'whole' && trees.length > 0) {
      const b = s.base % trees.length;
      const baseBody = trees[b]!.body;
      built.base = b;
      built.delta = s.stored === 'git' ? createDelta(baseBody, body) : craftedDelta(baseBody, body, s.cuts);
      expect(applyDelta(baseBody, built.delta)).toEqual(body);
    }
    trees.push(built);
  }
  return trees;
}

const record = (into: string[], declined: Set<string>) => (id: string, tree: boolean) => {
  into.push(`${id}:${tree}`);
  return !declined.has(id);
};

describe('tree shapes', () => {
  it('visit what a scan of every entry of the rebuilt body visits, whatever the delta', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 4 }), (steps, declinedIds) => {
        const declined = new Set(declinedIds.map((n) => toHex(poolId(n))));
        const trees = buildTrees(steps);
        const met = new Set<string>();
        const modelMet = new Set<string>();
        const calls: string[] = [];
        const modelCalls: string[] = [];
        const shapes: TreeShape[] = [];
        for (const t of trees) {
          const entry = shapeEntry(met, record(calls, declined));
          const shape = t.delta === undefined ? wholeShape(t.body, entry) : deltaShape(shapes[t.base!]!, t.delta, entry);
          modelScan(t.body, modelMet, record(modelCalls, declined));
          const { starts } = parse(t.body);
          expect([...shape.slab.subarray(shape.at, shape.at + shape.count + 1)]).toEqual(starts);
          expect(bodyOf(shape)).toEqual(t.body);
          shapes.push(shape);
        }
        expect(calls).toEqual(modelCalls);
        expect([...met].sort()).toEqual([...modelMet].sort());
      }),
      { numRuns: 400 },
    );
  });

  it('read entries split across ops, and copied from the middle of a base entry, as the rebuilt body has them', () => {
    const a = { mode: '100644', name: 'a', id: poolId(1) };
    const b = { mode: '100644', name: 'b', id: poolId(2) };
    const c = { mode: '40000', name: 'c', id: poolId(3) };
    const base = encode([a, b, c]);
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [];
    // b's id changed: the copy stops inside b's id, the rest of it is inserted, c is copied whole.
    const changed = encode([a, { ...b, id: poolId(2).map((x, k) => (k === 10 ? 0x77 : x)) }, c]);
    const cut = 29 + 9 + 5; // a is 29 bytes, b's mode and name 9: 5 bytes into b's id
    cases.push([
      base,
      Uint8Array.from([
        ...varint(base.length),
        ...varint(changed.length),
        ...copyOp(0, cut),
        15,
        ...changed.subarray(cut, cut + 15),
        ...copyOp(cut + 15, base.length - cut - 15),
      ]),
      changed,
    ]);
    // The same bytes in copies that each start and end in the middle of entries.
    cases.push([
      base,
      Uint8Array.from([...varint(base.length), ...varint(base.length), ...copyOp(0, 3), ...copyOp(3, 30), ...copyOp(33, base.length - 33)]),
      base,
    ]);
    // A name holding "100644 y": an entry whose mode and name are copied from the middle of it.
    const named = encode([{ mode: '100644', name: 'q 100644 y', id: poolId(6) }]);
    const fromName = Uint8Array.from([...encode([{ mode: '100644', name: 'y', id: poolId(7) }])]);
    cases.push([named, Uint8Array.from([...varint(named.length), ...varint(fromName.length), ...copyOp(9, 8), 21, 0, ...poolId(7)]), fromName]);
    // One copy from the middle of that name to the end: its first entry starts inside the base's, the rest are the base's.
    const named3 = encode([{ mode: '100644', name: 'q 100644 y', id: poolId(6) }, b, c]);
    cases.push([named3, Uint8Array.from([...varint(named3.length), ...varint(named3.length - 9), ...copyOp(9, named3.length - 9)]), named3.slice(9)]);
    // An id holding "100644 b\0": one copy op takes a whole entry from inside a's id and c's start, none of them the base's.
    const id1 = Uint8Array.from([...'100644 b'].map((x) => x.charCodeAt(0)).concat([0], new Array(11).fill(0xaa)));
    const hiding = encode([{ mode: '100644', name: 'a', id: id1 }, c]);
    const inner = hiding.slice(9, 38);
    cases.push([hiding, Uint8Array.from([...varint(hiding.length), ...varint(inner.length), ...copyOp(9, 29)]), inner]);
    for (const [from, delta, body] of cases) {
      expect(applyDelta(from, delta)).toEqual(body);
      const met = new Set<string>();
      const baseShape = wholeShape(
        from,
        shapeEntry(met, () => true),
      );
      expect(baseShape.complete).toBe(true);
      const modelMet = new Set(met);
      const calls: string[] = [];
      const modelCalls: string[] = [];
      const shape = deltaShape(baseShape, delta, shapeEntry(met, record(calls, new Set())));
      modelScan(body, modelMet, record(modelCalls, new Set()));
      expect(calls).toEqual(modelCalls);
      expect(bodyOf(shape)).toEqual(body);
      expect([...shape.slab.subarray(shape.at, shape.at + shape.count + 1)]).toEqual(parse(body).starts);
    }
  });

  it('follow a long chain of deltas (the chain is cut and rebuilt as it grows)', () => {
    let entries: Entry[] = Array.from({ length: 30 }, (_, i) => ({ mode: '100644', name: `f${String(i).padStart(2, '0')}`, id: poolId(i) }));
    let body = encode(entries);
    const met = new Set<string>();
    let shape = wholeShape(
      body,
      shapeEntry(met, () => true),
    );
    const calls: string[] = [];
    for (let n = 0; n < 60; n++) {
      entries = entries.map((e, i) => (i === n % 30 ? { ...e, id: poolId(100 + n) } : e));
      const next = encode(entries);
      shape = deltaShape(
        shape,
        createDelta(body, next),
        shapeEntry(met, (id) => (calls.push(id), true)),
      );
      body = next;
      expect(bodyOf(shape)).toEqual(body);
    }
    expect(calls).toEqual(Array.from({ length: 60 }, (_, n) => toHex(poolId(100 + n))));
  });

  it('refuse a delta that does not fit its base as applyDelta does', () => {
    const base = encode([{ mode: '100644', name: 'a', id: poolId(1) }]);
    const shape = wholeShape(base, () => true);
    const bad = [
      Uint8Array.from([...varint(base.length + 1), ...varint(4), ...copyOp(0, 4)]),
      Uint8Array.from([...varint(base.length), ...varint(4), ...copyOp(base.length - 2, 4)]),
      Uint8Array.from([...varint(base.length), ...varint(4), ...copyOp(0, 3)]),
      Uint8Array.from([...varint(base.length), ...varint(4), 0]),
      Uint8Array.from([...varint(base.length), ...varint(4), 0x91]),
    ];
    for (const delta of bad) {
      let expected: unknown;
      try {
        applyDelta(base, delta);
      } catch (err) {
        expected = err;
      }
      expect(expected).toBeDefined();
      expect(() => deltaShape(shape, delta, () => true)).toThrow((expected as Error).message);
    }
  });
});

describe('RawTrees.scanBatch', () => {
  it('visit what a scan of every body visits, trees stored whole or as deltas, bases earlier, later (waiting for them) or elsewhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(40), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat(3),
        async (steps, declinedIds, order, batches) => {
          const declined = new Set(declinedIds.map((n) => toHex(poolId(n))));
          const trees = buildTrees(steps);
          const kv = new Kv(new MemoryLevel());
          const store = new ObjectStore(kv, 1, createObjectCache(1 << 20, { applyDelta }));
          // Distinct bodies only: a tree is one object, whatever step made it.
          const ids = trees.map((t) => hashObject('tree', t.body) as Oid);
          // Each object stored as the first step that made it stored it: a delta's base was made earlier, so no chain is a cycle.
          const ops = trees.flatMap((t, i) => {
            const id = oidToBytes(ids[i]!);
            if (ids.indexOf(ids[i]!) !== i) return [];
            if (t.delta === undefined || ids[t.base!] === ids[i]) return [{ type: 'put' as const, key: objectKey(1, id), value: encodePacked('tree', t.body) }];
            const entry = encodeRefDelta(oidToBytes(ids[t.base!]!), t.delta);
            return [{ type: 'put' as const, key: deltaKey(1, id), value: encodeStoredDelta('tree', t.body.length, entry) }];
          });
          await kv.batch(ops);
          // The walk's order: a shuffle of the distinct trees, in a few batches.
          const distinct = [...new Set(ids)];
          for (let k = 0; k < order.length; k++) {
            const i = k % distinct.length;
            const j = order[k]! % distinct.length;
            [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
          }
          const met = new OidSet();
          const raw = new RawTrees(met);
          const calls: string[] = [];
          // What the walk accepted (it is then met).
          const seen = new Set<string>();
          const visit = (body: Uint8Array, at: number, tree: boolean) => {
            const id = toHex(body.subarray(at, at + 20));
            const accepted = record(calls, declined)(id, tree);
            if (accepted) seen.add(id);
            return accepted;
          };
          const size = Math.max(1, Math.ceil(distinct.length / (batches + 1)));
          for (let b = 0; b < distinct.length; b += size) {
            await raw.scanBatch(store, distinct.slice(b, b + size), () => visit);
          }
          // Trees stored as deltas of trees not scanned yet wait for them; the rest, once the walk ends.
          await raw.flush(store);
          expect(raw.waiting).toBe(false);
          for (const id of seen) expect(met.has(oidToBytes(id as Oid))).toBe(true);
          const modelMet = new Set<string>();
          const modelCalls: string[] = [];
          const bodies = new Map(trees.map((t, i) => [ids[i]!, t.body]));
          for (const id of distinct) modelScan(bodies.get(id)!, modelMet, record(modelCalls, declined));
          // The same visits (a waiting tree's come later: the order differs, not what is visited or
          // how often). An id these trees give two kinds (no real id has two) is visited as the tree met first has it.
          const idOf = (call: string) => call.slice(0, 40);
          expect(calls.map(idOf).sort()).toEqual(modelCalls.map(idOf).sort());
          const kinds = new Set<string>();
          for (const t of trees) modelScan(t.body, new Set<string>(), (id, tree) => (kinds.add(`${id}:${tree}`), false));
          for (const call of calls) expect(kinds).toContain(call);
          expect([...seen].sort()).toEqual([...modelMet].sort());
        },
      ),
      { numRuns: 150 },
    );
  });
});
