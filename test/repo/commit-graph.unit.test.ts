/**
 * The commit graph and the planning on it, without the git binary:
 * - generation numbers of branchy histories (merges, several roots, committer times in any
 *   order) equal a reference computed here, whether the records were written with the
 *   objects or computed on first need (a database written before the graph existed);
 * - API commits and `indexPack` write the records;
 * - random histories with random wants, haves and depths: the plan lists what a naive
 *   reference walk (whole closures, no generations) lists, with the same shallow boundary;
 * - an incremental fetch on a long linear history reads about as many graph records as it
 *   sends commits, not the history.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { Kv } from '../../src/storage/kv.js';
import { TAG, commitGraphKey } from '../../src/storage/keys.js';
import { ObjectStore, createObjectCache } from '../../src/object/object-store.js';
import { type Oid, oidToBytes } from '../../src/object/oid.js';
import { encodeCommit } from '../../src/object/commit.js';
import { encodeTree } from '../../src/object/tree.js';
import { utf8 } from '../../src/platform/bytes.js';
import { commitGraph, decodeCommitRecord } from '../../src/repo/commit-graph.js';
import { planObjects } from '../../src/repo/walk.js';
import { collectBytes } from '../engine/helpers.js';

/** A history shape: per commit, its parents (earlier indexes), its files (of a small pool) and its committer time. */
interface Shape {
  parents: number[][];
  files: number[][];
  times: number[];
}

const FILES = ['a.txt', 'b.txt', 'dir/c.txt', 'dir/sub/d.txt', 'other/e.txt'];

const shapeArb = (max: number): fc.Arbitrary<Shape> =>
  fc.integer({ min: 1, max }).chain((n) =>
    fc.record({
      parents: fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          i === 0
            ? fc.constant<number[]>([])
            : fc.oneof(
                { weight: 1, arbitrary: fc.constant<number[]>([]) },
                { weight: 8, arbitrary: fc.uniqueArray(fc.nat(i - 1), { minLength: 1, maxLength: 3 }) },
              ),
        ),
      ),
      files: fc.tuple(...Array.from({ length: n }, () => fc.uniqueArray(fc.nat(FILES.length * 3 - 1), { maxLength: 4 }))),
      times: fc.tuple(...Array.from({ length: n }, () => fc.integer({ min: 1_000_000_000, max: 1_800_000_000 }))),
    }),
  );

interface Built {
  store: ObjectStore;
  kv: Kv;
  commits: Oid[];
  /** Every object id under each tree, the tree included. */
  under: Map<Oid, Set<Oid>>;
  trees: Oid[];
}

/** Writes a tree of `paths` (with `content` chosen per path), returns its id and fills `under`. */
function writeTree(add: (type: 'tree' | 'blob', body: Uint8Array) => Oid, files: [string, string][], under: Map<Oid, Set<Oid>>): Oid {
  const here: { name: string; mode: string; oid: Oid }[] = [];
  const all = new Set<Oid>();
  const dirs = new Map<string, [string, string][]>();
  for (const [path, content] of files) {
    const slash = path.indexOf('/');
    if (slash < 0) {
      const blob = add('blob', utf8(content));
      here.push({ name: path, mode: '100644', oid: blob });
      all.add(blob);
    } else {
      const d = path.slice(0, slash);
      dirs.set(d, [...(dirs.get(d) ?? []), [path.slice(slash + 1), content]]);
    }
  }
  for (const [d, sub] of dirs) {
    const t = writeTree(add, sub, under);
    here.push({ name: d, mode: '40000', oid: t });
    for (const o of under.get(t)!) all.add(o);
  }
  here.sort((a, b) => (a.name < b.name ? -1 : 1));
  const tree = add('tree', encodeTree(here as never));
  all.add(tree);
  under.set(tree, all);
  return tree;
}

/** Stores a history of `shape` through an ObjectWriter; with `records`, the graph records are written too. */
async function build(shape: Shape, records: boolean, kv = new Kv(new MemoryLevel())): Promise<Built> {
  const store = new ObjectStore(kv, 1, createObjectCache());
  const writer = store.writer();
  const under = new Map<Oid, Set<Oid>>();
  const commits: Oid[] = [];
  const trees: Oid[] = [];
  const facts = new Map<Oid, { tree: Oid; parents: Oid[]; time: number }>();
  shape.parents.forEach((ps, i) => {
    const files = [...new Map(shape.files[i]!.map((f) => [FILES[f % FILES.length]!, `v${Math.floor(f / FILES.length)}\n`] as [string, string])).entries()];
    const tree = writeTree((t, b) => writer.add(t, b), files, under);
    const who = { name: 'T', email: 't@example.com', timestamp: shape.times[i]!, timezone: '+0000' };
    const parents = ps.map((p) => commits[p]!);
    const oid = writer.add('commit', encodeCommit({ tree, parents, author: who, committer: who, message: `c${i}\n` }));
    commits.push(oid);
    trees.push(tree);
    facts.set(oid, { tree, parents, time: shape.times[i]! });
  });
  await writer.flush();
  if (records) await kv.batch((await commitGraph(store).recordsFor(facts)).map((r) => r.op));
  return { store, kv, commits, under, trees };
}

/** Generations by their definition, recursively (small histories only). */
function referenceGenerations(shape: Shape): number[] {
  const g: number[] = [];
  const gen = (i: number): number => (g[i] ??= 1 + Math.max(0, ...shape.parents[i]!.map(gen)));
  return shape.parents.map((_, i) => gen(i));
}

/** What upload-pack sends, computed naively: whole closures, no generations, no dates. */
function referencePlan(shape: Shape, b: Built, wants: number[], haves: number[], depth?: number) {
  const has = new Set<number>();
  const stack = [...haves];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (!has.has(c)) has.add(c), stack.push(...shape.parents[c]!);
  }
  const grafts = new Set<number>();
  const shallow = new Set<number>();
  if (depth !== undefined) {
    const level = new Map<number, number>();
    let front = [...new Set(wants)];
    for (let d = 1; front.length > 0; d++) {
      const next: number[] = [];
      for (const c of front) {
        if (level.has(c)) continue;
        level.set(c, d);
        if (d < depth) next.push(...shape.parents[c]!);
      }
      front = next.filter((c) => !level.has(c));
    }
    for (const [c, d] of level) if (d >= depth) grafts.add(c), shallow.add(c);
  }
  const included = new Set<number>();
  const todo = wants.filter((w) => !has.has(w));
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (included.has(c) || has.has(c)) continue;
    included.add(c);
    if (!grafts.has(c)) todo.push(...shape.parents[c]!);
  }
  const seen = new Set<Oid>(haves.map((h) => b.commits[h]!));
  for (const c of included) {
    if (grafts.has(c)) continue;
    for (const p of shape.parents[c]!) if (has.has(p)) for (const o of b.under.get(b.trees[p]!)!) seen.add(o);
  }
  const objects = new Set<Oid>([...included].map((c) => b.commits[c]!));
  for (const c of included) for (const o of b.under.get(b.trees[c]!)!) if (!seen.has(o)) objects.add(o);
  return { objects, shallow: new Set([...shallow].map((c) => b.commits[c]!)) };
}

/** The generation stored for each commit. */
async function storedGenerations(b: Built): Promise<(number | undefined)[]> {
  const values = await b.kv.getMany(b.commits.map((c) => commitGraphKey(1, oidToBytes(c))));
  return values.map((v) => (v === undefined ? undefined : decodeCommitRecord(v)?.generation));
}

describe('generation numbers', () => {
  it('equal the definition on branchy histories, written with the objects or computed on first need', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(40), async (shape) => {
        const expected = referenceGenerations(shape);
        const written = await build(shape, true);
        expect(await storedGenerations(written)).toEqual(expected);
        // A database written before the graph: nothing stored until a walk needs it.
        const old = await build(shape, false);
        expect((await storedGenerations(old)).every((g) => g === undefined)).toBe(true);
        const recs = await commitGraph(old.store).records([old.commits[old.commits.length - 1]!]);
        expect(recs[0]!.generation).toBe(expected[expected.length - 1]);
        // Written back: the tip's whole ancestry now has records.
        const back = await storedGenerations(old);
        back.forEach((g, i) => g !== undefined && expect(g).toBe(expected[i]));
      }),
      { numRuns: 40, seed: 9 },
    );
  });

  it('are written by API commits and by indexPack', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('a');
    const author = { name: 'T', email: 't@example.com', timestamp: 1_700_000_000 };
    const shas: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await repo.commit({ branch: 'main', message: `c${i}`, author, changes: [{ action: 'write', path: `f${i}.txt`, content: `${i}` }] } as never);
      shas.push(r.sha);
    }
    const kvA = internalsOf(repo).objects.kv;
    const gens = async (kv: Kv) =>
      (await kv.getMany(shas.map((s) => commitGraphKey(internalsOf(repo).objects.repoId, oidToBytes(s as Oid))))).map(
        (v) => v && decodeCommitRecord(v)?.generation,
      );
    expect(await gens(kvA)).toEqual([1, 2, 3, 4]);

    const other = await openEngine({ db: new MemoryLevel() });
    const copy = await other.createRepo('a');
    await copy.indexPack([await collectBytes(repo.packObjects({ wants: [shas[3]!] }))]);
    const kvB = internalsOf(copy).objects.kv;
    const stored = await kvB.getMany(shas.map((s) => commitGraphKey(internalsOf(copy).objects.repoId, oidToBytes(s as Oid))));
    expect(stored.map((v) => v && decodeCommitRecord(v)?.generation)).toEqual([1, 2, 3, 4]);
    await engine.close();
    await other.close();
  });
});

describe('planning on the graph', () => {
  it('sends what a naive walk sends, for random histories, wants, haves and depths', async () => {
    const input = shapeArb(30).chain((shape) => {
      const n = shape.parents.length;
      return fc.record({
        shape: fc.constant(shape),
        wants: fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: 3 }),
        haves: fc.uniqueArray(fc.nat(n - 1), { maxLength: 3 }),
        depth: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        records: fc.boolean(),
      });
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ shape, wants, haves, depth, records }) => {
        const b = await build(shape, records);
        const plan = await planObjects(b.store, {
          wants: wants.map((w) => b.commits[w]!),
          haves: haves.map((h) => b.commits[h]!),
          ...(depth === undefined ? {} : { depth }),
        });
        const ref = referencePlan(shape, b, wants, haves, depth);
        expect(new Set(plan.oids)).toEqual(ref.objects);
        expect(plan.oids.length).toBe(ref.objects.size);
        expect(new Set(plan.shallow)).toEqual(ref.shallow);
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it('an incremental fetch on a long linear history reads graph records of about the new commits only', async () => {
    const n = 5000;
    const shape: Shape = {
      parents: Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1])),
      files: Array.from({ length: n }, (_, i) => [i % (FILES.length * 3)]),
      times: Array.from({ length: n }, (_, i) => 1_600_000_000 + i * 60),
    };
    const db = new MemoryLevel();
    const built = await build(shape, true, new Kv(db));
    // A fresh store (cold caches) over a counting database.
    const reads = { graph: 0, objects: 0 };
    class CountingKv extends Kv {
      override getMany(keys: Uint8Array[]) {
        for (const k of keys) {
          if (k[0] === TAG.commitGraph) reads.graph++;
          else if (k[0] === TAG.object) reads.objects++;
        }
        return super.getMany(keys);
      }
    }
    const store = new ObjectStore(new CountingKv(db), 1, createObjectCache());
    const plan = await planObjects(store, { wants: [built.commits[n - 1]!], haves: [built.commits[n - 11]!] });
    const infos = await store.info(plan.oids);
    expect(plan.oids.filter((_, i) => infos[i]!.type === 'commit')).toEqual(built.commits.slice(n - 10).reverse());
    // 10 commits sent, their parents, the have: a few dozen records, nothing like 5,000.
    expect(reads.graph).toBeLessThan(50);
    expect(reads.objects).toBeLessThan(200);
    // The same answer with records computed on first need (a database written before).
    const old = await build(shape, false);
    const again = await planObjects(old.store, { wants: [old.commits[n - 1]!], haves: [old.commits[n - 11]!] });
    expect(new Set(again.oids)).toEqual(new Set(plan.oids));
  }, 60_000);
});
