/**
 * Long tree walks (tree-walk.ts RawTrees: plans and the sweep's mark) over trees stored as
 * deltas of trees the walk meets later — deeper trees, later siblings, trees whose own base
 * waits too, a tree no walk reaches — as a pack from a history whose older trees are the bases
 * delivers them. Such a tree waits for its base and is read from its delta once the base is
 * scanned, or resolved by the store once nothing else is left: the walk still reaches exactly
 * what a recursive walk of the decoded trees reaches, each object once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { planObjects } from '../../src/repo/walk.js';
import { Marker, Pacer } from '../../src/repo/sweep-mark.js';
import { hashObject, oidToBytes, type Oid, type ObjectType } from '../../src/object/oid.js';
import { isTreeMode } from '../../src/object/tree.js';
import { createDelta } from '../../src/pack/delta.js';
import { encodePackEntry } from '../../src/pack/entry.js';
import { utf8 } from '../../src/platform/bytes.js';
import { refDelta, writePackSync } from '../pack/crafted-packs.js';
import { encode, parse, type Entry } from './tree-bodies.js';

/** Leaf trees per middle tree, and middle trees: 1 + 50 + 5,000 trees, past the 4,096 a walk decodes before it scans raw bodies. */
const ROWS = 100;
const MIDS = 50;

interface Obj {
  oid: Oid;
  type: ObjectType;
  body: Uint8Array;
  /** Stored as a delta of this object. */
  base?: Oid;
}

/** Git's tree order: a directory's name compares as if it ended with '/'. */
function sorted(entries: Entry[]): Entry[] {
  const key = (e: Entry) => (isTreeMode(e.mode) ? `${e.name}/` : e.name);
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The entries of a body built by `encode` (modes and ids; names read back). */
function parseEntries(body: Uint8Array): Entry[] {
  const { starts, entries } = parse(body);
  return entries.map((e, k) => {
    const from = starts[k]! + e.mode.length + 1;
    return { mode: e.mode, name: String.fromCharCode(...body.subarray(from, body.indexOf(0, from))), id: e.id };
  });
}

function object(type: ObjectType, body: Uint8Array): Obj {
  return { oid: hashObject(type, body), type, body };
}

let engine: Engine;
let repo: Repository;
let commit: Oid;
let reachable: Set<Oid>;
let waitingTrees = 0;
let onLost: Oid[] = [];

beforeAll(async () => {
  const blobs = Array.from({ length: 50 }, (_, i) => object('blob', utf8(`blob ${i}\n`)));
  // One blob of each leaf's own: what only that leaf reaches.
  const own = Array.from({ length: ROWS * MIDS }, (_, j) => object('blob', utf8(`leaf ${j}\n`)));
  // Leaf j sits in row floor(j / MIDS) of middle tree j % MIDS; a walk meets the rows of one middle tree in order.
  const leaves = Array.from({ length: ROWS * MIDS }, (_, j) =>
    object(
      'tree',
      encode(
        sorted([
          { mode: '100644', name: 'a.txt', id: oidToBytes(blobs[j % 50]!.oid) },
          { mode: '100644', name: `b${j}.txt`, id: oidToBytes(own[j]!.oid) },
        ]),
      ),
    ),
  );
  const leaf = (row: number, mid: number) => leaves[row * MIDS + mid]!;
  const mids = Array.from({ length: MIDS }, (_, m) =>
    object('tree', encode(sorted(Array.from({ length: ROWS }, (_, r) => ({ mode: '40000', name: `l${r * MIDS + m}`, id: oidToBytes(leaf(r, m).oid) }))))),
  );
  const root = object('tree', encode(sorted(mids.map((t, m) => ({ mode: '40000', name: `m${m}`, id: oidToBytes(t.oid) })))));
  const c = object('commit', utf8(`tree ${root.oid}\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nwide\n`));
  commit = c.oid;
  // Trees nothing reaches (a leaf and one more entry): bases no walk scans.
  const lost: Obj[] = [];
  const lostBase = (j: number): Oid => {
    const t = leaves[j]!;
    const extra = { mode: '100644', name: 'z.txt', id: oidToBytes(blobs[1]!.oid) };
    const entries = [...parseEntries(t.body), extra];
    lost.push(object('tree', encode(entries)));
    return lost[lost.length - 1]!.oid;
  };

  for (let m = 0; m < MIDS; m++) {
    for (let r = 0; r < ROWS; r++) {
      const t = leaf(r, m);
      // Rows 4k: a delta of the next row (met later in the same middle tree); 4k+1: of row 4k+3;
      // 4k+2: of row 4k, which waits itself; 4k+3: whole; row 5 of every seventh: of a lost tree.
      if (r === 5 && m % 7 === 0) t.base = lostBase(r * MIDS + m);
      else if (r % 4 === 0 && r + 1 < ROWS) t.base = leaf(r + 1, m).oid;
      else if (r % 4 === 1 && r + 2 < ROWS) t.base = leaf(r + 2, m).oid;
      else if (r % 4 === 2) t.base = leaf(r - 2, m).oid;
    }
    // Even middle trees: deltas of a leaf under the next middle tree (met after every middle tree).
    if (m % 2 === 0) mids[m]!.base = leaf(ROWS - 1, m + 1).oid;
  }
  const all = [c, root, ...mids, ...leaves, ...lost, ...blobs, ...own];
  const byId = new Map(all.map((o) => [o.oid, o]));
  // Bases before their deltas.
  const order: Obj[] = [];
  const placed = new Set<Oid>();
  const place = (o: Obj): void => {
    if (placed.has(o.oid)) return;
    if (o.base !== undefined) place(byId.get(o.base)!);
    placed.add(o.oid);
    order.push(o);
  };
  all.forEach(place);
  const pack = writePackSync(
    order.map((o) => (o.base === undefined ? encodePackEntry(o.type, o.body) : refDelta(o.base, createDelta(byId.get(o.base)!.body, o.body)))),
  );
  waitingTrees = all.filter((o) => o.type === 'tree' && o.base !== undefined).length;
  onLost = all.filter((o) => lost.some((l) => l.oid === o.base)).map((o) => o.oid);

  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, fullPacks: false, clonePlans: false } });
  repo = await engine.createRepo('waiting');
  // No ref points at it, so nothing is materialized: the trees stay as the deltas they arrived as.
  await repo.indexPack([pack]);
  reachable = new Set([c.oid, root.oid, ...mids.map((t) => t.oid), ...leaves.map((t) => t.oid), ...blobs.map((b) => b.oid), ...own.map((b) => b.oid)]);
}, 120_000);

afterAll(async () => {
  await engine.close();
});

describe('long tree walks over trees stored as deltas of trees met later', () => {
  it('store those trees as deltas only', async () => {
    const objects = internalsOf(repo).objects;
    const ids = [...reachable];
    const forms = await objects.forms(ids);
    const infos = await objects.info(ids);
    const deltaOnly = infos.filter((info, i) => info?.type === 'tree' && forms[i]?.whole === undefined && forms[i]?.delta !== undefined).length;
    expect(waitingTrees).toBeGreaterThan(3700);
    // The trees whose base nothing reaches too: resolved once the walk has nothing else.
    expect(onLost.length).toBe(8);
    for (const f of await objects.forms(onLost)) expect([f?.whole, f?.delta !== undefined]).toEqual([undefined, true]);
    expect(deltaOnly).toBeGreaterThan(3700);
  });

  it('plan exactly the objects a recursive walk reaches, each once', async () => {
    const plan = await planObjects(internalsOf(repo).objects, { wants: [commit] });
    expect(plan.oids.length).toBe(new Set(plan.oids).size);
    expect(new Set(plan.oids)).toEqual(reachable);
  });

  it('mark exactly those objects in the sweep', async () => {
    const marker = new Marker(internalsOf(repo).objects, new Pacer());
    await marker.markFrom([commit]);
    expect(marker.marked.size).toBe(reachable.size);
    for (const oid of reachable) expect(marker.has(oid)).toBe(true);
  });
});
