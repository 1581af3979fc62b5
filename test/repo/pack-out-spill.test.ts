/**
 * A full clone's pack of a store large enough to be read by one merged scan of its `D` and `O`
 * ranges, with its delta entries kept in a scratch file between the passes (repo/pack-scan.ts
 * `scanStore`, repo/kept-entries.ts): the same objects in the same forms as the pack read by id
 * with every delta kept in memory, accepted by `git index-pack --strict`, with no entry read
 * twice from the store; with a scratch file that fails, the same objects again, the deltas it
 * did not take read again from the store; a scan that meets mostly other objects stops and reads
 * the rest by id; an object missing among the first fails before any entry leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type FileChange } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { packBytes, type PackBytesOptions } from '../../src/repo/pack-out.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { platform } from '../../src/platform/index.js';
import type { ScratchFile } from '../../src/platform/types.js';
import { objectKey } from '../../src/storage/keys.js';
import { oidFromBytes, oidToBytes } from '../../src/object/oid.js';
import { git, initBare, packEntryTypes, pseudoRandom, tempDir } from '../pack/git-helpers.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

let engine: Engine;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
  tmp = tempDir('level-git-pack-spill-');
});
afterAll(async () => {
  await engine.close();
  tmp.cleanup();
});

/** The platform's scratch files, counted; `fail`: every append throws. */
function countedScratch(fail = false) {
  const stats = { opened: 0, appended: 0 };
  const open = (): ScratchFile => {
    const file = platform().scratchFile!();
    stats.opened++;
    return {
      append(bytes) {
        if (fail) throw new Error('no space left on device');
        stats.appended += bytes.length;
        return file.append(bytes);
      },
      read: (position, length) => file.read(position, length),
      close: () => file.close(),
    };
  };
  return { open, stats };
}

/** Object id -> [type, body] of a pack, and how many entries of each pack type it holds. */
async function contents(pack: Uint8Array) {
  const objects = new Map((await readPackBytes(pack)).map((o) => [o.oid, `${o.type}:${Buffer.from(o.body).toString('base64')}`]));
  const types = new Map<number, number>();
  for (const t of packEntryTypes(pack)) types.set(t, (types.get(t) ?? 0) + 1);
  return { objects, types };
}

describe('full-clone packs of a large store', () => {
  it('read whole objects by one range scan and keep deltas in a scratch file: the same pack contents, nothing read twice', async () => {
    const repo = await engine.createRepo('spill');
    // 4,400 files of 4 KiB (whole), then 24 commits each inserting 1 KiB into 60 of them: ~1.4 MB
    // of stored deltas (kept beside the whole objects by API commits), chains of a few links
    // for files and one per commit for the root tree.
    const files = Array.from({ length: 4400 }, (_, i) => pseudoRandom(4096, i + 1));
    const first: FileChange[] = files.map((content, i) => ({ path: `d${i % 40}/f${i}.bin`, content }));
    const firstTip = (await repo.commit({ branch: 'main', message: 'files', author: AUTHOR, changes: first })).sha;
    let tip = firstTip;
    for (let c = 0; c < 24; c++) {
      const changes: FileChange[] = [];
      for (let k = 0; k < 60; k++) {
        const i = (c * 37 + k * 11) % 600;
        const insert = pseudoRandom(1024, 10_000 + c * 100 + k);
        const old = files[i]!;
        const at = (c * 97 + k * 13) % old.length;
        const grown = new Uint8Array(old.length + insert.length);
        grown.set(old.subarray(0, at));
        grown.set(insert, at);
        grown.set(old.subarray(at), at + insert.length);
        files[i] = grown;
        changes.push({ path: `d${i % 40}/f${i}.bin`, content: grown });
      }
      tip = (await repo.commit({ branch: 'main', message: `edit ${c}`, author: AUTHOR, changes })).sha;
    }
    const { objects } = internalsOf(repo);
    let deltaBytes = 0;
    for await (const batch of objects.deltaRange()) for (const [, v] of batch) deltaBytes += v.length;
    expect(deltaBytes).toBeGreaterThan(1.2 * 2 ** 20);
    const plan = await repo.planPack({ wants: [tip] as never, ofsDelta: true });

    const reads = { whole: 0, delta: 0 };
    const readWhole = new Set<string>();
    const materializeAt = objects.materializeAt.bind(objects);
    const deltaEntriesAt = objects.deltaEntriesAt.bind(objects);
    objects.materializeAt = (ids, at) => {
      reads.whole += at.length;
      for (const p of Array.from(at)) readWhole.add(oidFromBytes(ids, p * 20));
      return materializeAt(ids, at);
    };
    objects.deltaEntriesAt = (ids, at) => {
      reads.delta += at.length;
      return deltaEntriesAt(ids, at);
    };
    const pack = async (options: PackBytesOptions) => {
      reads.whole = reads.delta = 0;
      const bytes = await collectBytes(packBytes(objects, plan.oids, true, undefined, { ofsDelta: true, ...options }));
      return { bytes, ...reads };
    };

    // By id, every delta kept in memory: the reference.
    const byId = await pack({ spillDeltaBytes: 0 });
    expect(byId.whole).toBeGreaterThan(4096);
    const reference = await contents(byId.bytes);
    expect(reference.types.get(6)).toBeGreaterThan(1400);

    // One merged scan of both ranges, every delta in the scratch file: no entry read by id but
    // those of the first batch (looked up in plan order: the header waits for it).
    const scratch = countedScratch();
    const scanned = await pack({ scanDeltas: true, keepDeltaBytes: 64 * 1024, scratchFile: scratch.open });
    expect(scratch.stats.appended).toBeGreaterThan(deltaBytes);
    expect(scanned.whole).toBeLessThanOrEqual(512);
    expect(scanned.delta).toBe(512);
    expect(await contents(scanned.bytes)).toEqual(reference);
    const types = packEntryTypes(scanned.bytes);
    expect(types.slice(types.indexOf(6)).every((t) => t === 6)).toBe(true);
    const bare = initBare(tmp.dir, 'scanned.git');
    git(bare, ['index-pack', '--strict', '--stdin'], scanned.bytes);
    git(bare, ['fsck', '--strict', '--no-dangling', tip]);

    // A scratch file that takes nothing: the deltas past memory are read again, same contents.
    const failing = countedScratch(true);
    const reread = await pack({ scanDeltas: true, keepDeltaBytes: 64 * 1024, scratchFile: failing.open });
    expect(failing.stats.opened).toBe(1);
    expect(reread.delta).toBeGreaterThan(500);
    expect(await contents(reread.bytes)).toEqual(reference);

    // The first commit's pack (4,442 objects) in a store whose ranges hold ~3,000 other
    // entries: the scan stops once more than half the pack's size were others' and the rest is
    // looked up by id, the same contents.
    const early = (await repo.planPack({ wants: [firstTip] as never, ofsDelta: true })).oids;
    expect(early.length).toBeGreaterThan(4096);
    reads.whole = reads.delta = 0;
    const stopped = await collectBytes(packBytes(objects, early, true, undefined, { ofsDelta: true, scanDeltas: true }));
    expect(reads.delta).toBeGreaterThan(512);
    const earlyById = await collectBytes(packBytes(objects, early, true, undefined, { ofsDelta: true }));
    expect(await contents(stopped)).toEqual(await contents(earlyById));

    // An object missing from the store among the first of the plan (a stale clone plan): the
    // pack fails with its first batch, before any entry leaves (clone-plan.ts holds the header
    // back until then and lets the planner answer).
    const missing = 'e'.repeat(40);
    let sentBytes = 0;
    const failed = (async () => {
      for await (const chunk of packBytes(objects, [missing, ...plan.oids] as never, true, undefined, { ofsDelta: true, scanDeltas: true }))
        sentBytes += chunk.length;
    })();
    await expect(failed).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
    expect(sentBytes).toBeLessThanOrEqual(12);

    // Objects that go whole but are stored only as deltas (their base left out of the pack, their
    // whole entry gone): not in the range, read by id after it (resolved and written back).
    const stored = await objects.getDeltas(plan.oids);
    const info = await objects.info(plan.oids);
    const picked = plan.oids.filter((_, i) => stored[i] !== undefined && info[i]?.type === 'blob').slice(0, 3);
    expect(picked.length).toBe(3);
    const leftOut = new Set(picked.map((o) => stored[plan.oids.indexOf(o)]!.base));
    const subset = plan.oids.filter((o) => !leftOut.has(o));
    await objects.kv.batch(picked.map((o) => ({ type: 'del' as const, key: objectKey(objects.repoId, oidToBytes(o)) })));
    reads.whole = reads.delta = 0;
    readWhole.clear();
    const partial = await collectBytes(packBytes(objects, subset, true, undefined, { ofsDelta: true, scanDeltas: true }));
    expect(reads.whole).toBeLessThanOrEqual(512 + picked.length);
    for (const o of picked) expect(readWhole.has(o)).toBe(true);
    reads.whole = reads.delta = 0;
    const partialById = await collectBytes(packBytes(objects, subset, true, undefined, { ofsDelta: true }));
    expect(await contents(partial)).toEqual(await contents(partialById));
    expect(new Set((await readPackBytes(partial)).map((o) => o.oid))).toEqual(new Set(subset));
  });
});
