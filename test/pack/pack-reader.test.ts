import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readPack, readPackBytes, type PackObject, type ReadPackOptions } from '../../src/pack/pack-reader.js';
import { writePack, writePackSync } from '../../src/pack/pack-writer.js';
import { decodeEntryHeader, encodeEntryHeader, encodeOfsOffset, encodePackEntry, OBJ_OFS_DELTA, OBJ_REF_DELTA } from '../../src/pack/entry.js';
import { createDelta } from '../../src/pack/delta.js';
import { refDeltaBase } from '../../src/object/packed.js';
import { hashObject, oidToBytes, type ObjectType, type Oid } from '../../src/object/oid.js';
import { CorruptPackError, LimitExceededError } from '../../src/errors.js';
import { concat, equal, utf8 } from '../../src/platform/bytes.js';
import { platform, setPlatform } from '../../src/platform/index.js';
import { portablePlatform } from '../../src/platform/portable.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asAsync, catFileBatch, chunks, git, gitText, makeHistoryRepo, tempDir } from './git-helpers.js';

async function readAll(source: AsyncIterable<Uint8Array>, options?: ReadPackOptions): Promise<PackObject[]> {
  const out: PackObject[] = [];
  for await (const batch of readPack(source, options)) out.push(...batch);
  return out;
}

function readChunked(pack: Uint8Array, size: number, options?: ReadPackOptions): Promise<PackObject[]> {
  return readAll(asAsync(chunks(pack, size)), options);
}

/**
 * How many entries of each pack type number `pack` holds, at the offsets `git verify-pack -v`
 * reports. A thin pack is first completed by `index-pack --fix-thin` in a bare clone of
 * `thinBasesFrom` (the appended bases lie past the original entries and are skipped).
 */
function entryTypeCounts(pack: Uint8Array, thinBasesFrom?: string): Record<number, number> {
  const dir = tempDir();
  try {
    let idx: string;
    if (thinBasesFrom === undefined) {
      const file = join(dir.dir, 'p.pack');
      writeFileSync(file, pack);
      git(undefined, ['index-pack', file]);
      idx = file.replace(/\.pack$/, '.idx');
    } else {
      const bare = join(dir.dir, 'thin.git');
      git(undefined, ['clone', '-q', '--bare', thinBasesFrom, bare]);
      const out = gitText(bare, ['index-pack', '--stdin', '--fix-thin'], pack);
      idx = join(bare, 'objects', 'pack', `pack-${out.split(/\s+/)[1]}.idx`);
    }
    const out = git(undefined, ['verify-pack', '-v', idx]).toString();
    const counts: Record<number, number> = {};
    for (const line of out.split('\n')) {
      const m = /^[0-9a-f]{40} +\w+ +\d+ +\d+ +(\d+)/.exec(line);
      if (!m || Number(m[1]) >= pack.length - 20) continue;
      const t = decodeEntryHeader(pack, Number(m[1]))!.type;
      counts[t] = (counts[t] ?? 0) + 1;
    }
    return counts;
  } finally {
    dir.cleanup();
  }
}

/** Checks that every object read equals what git has, and that all git's objects were read. */
function expectSameAsGit(repo: string, objects: PackObject[], expected: readonly string[]): void {
  const got = catFileBatch(
    repo,
    objects.map((o) => o.oid),
  );
  expect(new Set(objects.map((o) => o.oid))).toEqual(new Set(expected));
  for (const o of objects) {
    const g = got.get(o.oid);
    expect(g, o.oid).toBeDefined();
    expect(o.type).toBe(g!.type);
    expect(equal(o.body, g!.body)).toBe(true);
    expect(hashObject(o.type, o.body)).toBe(o.oid);
    if (o.entry) {
      // The verbatim entry inflates back to the body.
      const z = o.entry.subarray(o.entry.findIndex((b) => !(b & 0x80)) + 1);
      expect(equal(platform().inflate(z), o.body)).toBe(true);
    }
  }
}

describe('readPack on packs made by git', () => {
  let tmp: ReturnType<typeof tempDir>;
  let repo: string;
  let commits: string[];
  let all: string[];
  beforeAll(() => {
    tmp = tempDir();
    ({ repo, commits } = makeHistoryRepo(tmp.dir));
    all = gitText(repo, ['rev-list', '--objects', '--all'])
      .split('\n')
      .map((l) => l.slice(0, 40));
  });
  afterAll(() => tmp.cleanup());

  function packObjects(args: string[], revs: string): Uint8Array {
    return new Uint8Array(git(repo, ['pack-objects', '--stdout', '-q', ...args], revs));
  }

  it('reads an ofs-delta pack (pack-objects --delta-base-offset --depth=50) in any chunking', async () => {
    const pack = packObjects(['--revs', '--all', '--delta-base-offset', '--depth=50', '--window=50'], '');
    // Sanity: git really made ofs-deltas, and no ref-deltas.
    const types = entryTypeCounts(pack);
    expect(types[OBJ_OFS_DELTA]).toBeGreaterThan(10);
    expect(types[OBJ_REF_DELTA]).toBeUndefined();
    const whole = await readChunked(pack, pack.length);
    expectSameAsGit(repo, whole, all);
    expect(whole.filter((o) => o.entry).length).toBeLessThan(whole.length);
    for (const size of [1, 7, 4096]) {
      const again = await readChunked(pack, size);
      expect(again.map((o) => o.oid)).toEqual(whole.map((o) => o.oid));
      expect(again.every((o, i) => equal(o.body, whole[i]!.body))).toBe(true);
    }
  });

  it('reads the same with the portable platform (fflate, pure-JS SHA-1)', async () => {
    const pack = packObjects(['--revs', '--all', '--delta-base-offset', '--depth=50'], '');
    const native = await readChunked(pack, 4096);
    const previous = platform();
    setPlatform(portablePlatform);
    try {
      for (const size of [1, 4096, pack.length]) {
        const portable = await readChunked(pack, size);
        expect(portable.map((o) => o.oid)).toEqual(native.map((o) => o.oid));
        expect(portable.every((o, i) => equal(o.body, native[i]!.body))).toBe(true);
      }
    } finally {
      setPlatform(previous);
    }
  });

  it('reads a ref-delta pack (no --delta-base-offset)', async () => {
    const pack = packObjects(['--revs', '--all', '--depth=50', '--window=50'], '');
    const types = entryTypeCounts(pack);
    expect(types[OBJ_REF_DELTA]).toBeGreaterThan(10);
    expect(types[OBJ_OFS_DELTA]).toBeUndefined();
    const objects = await readChunked(pack, 1000);
    expectSameAsGit(repo, objects, all);
    expect(await readChunked(pack, 7).then((o) => o.length)).toBe(all.length);
  });

  it('reads a repacked repository (git repack -adf --depth=50)', async () => {
    git(repo, ['repack', '-adf', '--depth=50', '--window=50', '-q']);
    const packDir = `${repo}/.git/objects/pack`;
    const fs = await import('node:fs');
    const name = fs.readdirSync(packDir).find((f) => f.endsWith('.pack'))!;
    const pack = new Uint8Array(fs.readFileSync(`${packDir}/${name}`));
    expect(entryTypeCounts(pack)[OBJ_OFS_DELTA]).toBeGreaterThan(10);
    const objects = await readChunked(pack, 65536);
    expectSameAsGit(repo, objects, allObjectsOf(repo));
  });

  it('reads a thin pack, taking bases from the store through getBase', async () => {
    const base = commits[2]!;
    const tip = commits[6]!;
    const pack = packObjects(['--revs', '--thin', '--delta-base-offset'], `${tip}\n^${base}\n`);
    expect(entryTypeCounts(pack, repo)[OBJ_REF_DELTA]).toBeGreaterThan(0);
    const requested: string[] = [];
    const getBase = async (oid: Oid) => {
      requested.push(oid);
      const got = catFileBatch(repo, [oid]).get(oid);
      return got && { type: got.type, body: got.body };
    };
    const objects = await readChunked(pack, 333, { getBase });
    const expected = gitText(repo, ['rev-list', '--objects', tip, `^${base}`])
      .split('\n')
      .map((l) => l.slice(0, 40));
    expectSameAsGit(repo, objects, expected);
    // It really was thin: some bases came from outside the pack.
    expect(requested.length).toBeGreaterThan(0);
    for (const oid of requested) expect(expected).not.toContain(oid);
    // Without getBase the missing base is named.
    await expect(readChunked(pack, 333)).rejects.toThrow(/missing delta base [0-9a-f]{40}/);
  });

  it('asks getBase for bases evicted from a tiny cache', async () => {
    const pack = packObjects(['--revs', '--all', '--delta-base-offset', '--depth=50'], '');
    const seen = new Map<Oid, PackObject>();
    let asked = 0;
    const objects: PackObject[] = [];
    for await (const batch of readPack(asAsync(chunks(pack, 500)), {
      baseCacheBytes: 1,
      packedBaseBytes: 0,
      getBase: async (oid) => {
        asked++;
        return seen.get(oid);
      },
    })) {
      for (const o of batch) seen.set(o.oid, o);
      objects.push(...batch);
    }
    expectSameAsGit(repo, objects, all);
    expect(asked).toBeGreaterThan(0);
  });

  it('rebuilds evicted bases from their compressed entries without asking getBase', async () => {
    const pack = packObjects(['--revs', '--all', '--delta-base-offset', '--depth=50'], '');
    const asked: Oid[] = [];
    const getBase = async (oid: Oid) => {
      asked.push(oid);
      return undefined;
    };
    const objects: PackObject[] = [];
    for await (const batch of readPack(asAsync(chunks(pack, 500)), { baseCacheBytes: 1, getBase })) objects.push(...batch);
    expectSameAsGit(repo, objects, all);
    expect(asked).toEqual([]);
    // With the compressed tier too small to hold the bases, the eviction is reported as before.
    await expect(collectAll(readPack(asAsync(chunks(pack, 500)), { baseCacheBytes: 1, packedBaseBytes: 1 }))).rejects.toThrow(/left the base cache/);
  });
});

async function collectAll(batches: AsyncIterable<PackObject[]>): Promise<PackObject[]> {
  const out: PackObject[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

function allObjectsOf(repo: string): string[] {
  return gitText(repo, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).split('\n').filter(Boolean);
}

const objectArb = fc.record({
  type: fc.constantFrom<ObjectType>('blob', 'tree', 'commit', 'tag'),
  body: fc.uint8Array({ maxLength: 2000 }),
});

describe('readPack on packs from writePack', () => {
  it('round-trips random objects, in random chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(objectArb, { maxLength: 30 }), fc.integer({ min: 1, max: 5000 }), async (objs, chunkSize) => {
        const entries = objs.map((o) => encodePackEntry(o.type, o.body));
        const packChunks: Uint8Array[] = [];
        for await (const c of writePack(entries.length, entries, { chunkSize: 1000 })) packChunks.push(c);
        const pack = concat(packChunks);
        const read = await readChunked(pack, chunkSize);
        expect(read.length).toBe(objs.length);
        read.forEach((r, i) => {
          expect(r.type).toBe(objs[i]!.type);
          expect(equal(r.body, objs[i]!.body)).toBe(true);
          expect(r.oid).toBe(hashObject(objs[i]!.type, objs[i]!.body));
          expect(equal(r.entry!, entries[i]!)).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('resolves ofs and ref deltas whose bases come before, after, or chained', async () => {
    const a = utf8('the quick brown fox jumps over the lazy dog\n'.repeat(20));
    const b = concat([a, utf8('one more line\n')]);
    const c = concat([b, utf8('and another\n')]);
    const aOid = hashObject('blob', a);
    const bOid = hashObject('blob', b);
    const eA = encodePackEntry('blob', a);
    const dAB = createDelta(a, b);
    const dBC = createDelta(b, c);
    // Entry 2: ofs-delta on entry 1; entry 3: ref-delta on B (earlier), entry 0: ref-delta on B (later).
    const refEntry = (base: Oid, d: Uint8Array) => concat([encodeEntryHeader(OBJ_REF_DELTA, d.length), oidToBytes(base), platform().deflate(d)]);
    const e0 = refEntry(bOid, dBC);
    const e1 = eA;
    const ofsEntry = (distance: number, d: Uint8Array) =>
      concat([encodeEntryHeader(OBJ_OFS_DELTA, d.length), encodeOfsOffset(distance), platform().deflate(d)]);
    const e2 = ofsEntry(e1.length, dAB);
    const pack = writePackSync([e0, e1, e2, refEntry(aOid, dAB)]);
    for (const size of [1, 5, pack.length]) {
      const objs = await readChunked(pack, size);
      expect(objs.map((o) => o.oid).sort()).toEqual([aOid, bOid, bOid, hashObject('blob', c)].sort());
      expect(objs.find((o) => o.oid === hashObject('blob', c))!.body).toEqual(c);
      // Each delta also comes as a stored ref-delta entry carrying its zlib stream as it arrived
      // (ofs-deltas rewritten to name their base by id), for the store to keep without deflating.
      for (const o of objs) {
        if (o.delta === undefined) {
          expect(o.deltaEntry).toBeUndefined();
          continue;
        }
        const entry = o.deltaEntry!;
        expect(refDeltaBase(entry)).toBe(o.delta.base);
        const h = decodeEntryHeader(entry)!;
        expect(h.type).toBe(OBJ_REF_DELTA);
        expect(h.size).toBe(o.delta.data.length);
        expect(platform().inflate(entry.subarray(h.length + 20), h.size)).toEqual(o.delta.data);
      }
    }
  });
});

/** A valid pack of a few blobs, for breaking. */
function smallPack(): Uint8Array {
  return writePackSync([
    encodePackEntry('blob', utf8('alpha\n'.repeat(50))),
    encodePackEntry('blob', utf8('beta')),
    encodePackEntry('blob', new Uint8Array(0)),
  ]);
}

function withChecksum(body: Uint8Array): Uint8Array {
  return concat([body, platform().sha1(body)]);
}

describe('readPack on hostile input', () => {
  it('reads the small pack (control)', async () => {
    expect((await readPackBytes(smallPack())).length).toBe(3);
  });

  it('rejects a wrong checksum', async () => {
    const p = smallPack();
    p[p.length - 1] ^= 1;
    await expect(readPackBytes(p)).rejects.toThrow(CorruptPackError);
    const q = smallPack();
    q[20] ^= 0x01; // inside the first zlib stream or header: some typed error
    await expect(readPackBytes(q)).rejects.toThrow(CorruptPackError);
  });

  it('rejects the pack truncated at every length', async () => {
    const p = smallPack();
    for (let n = 0; n < p.length; n++) {
      await expect(readChunked(p.subarray(0, n), 3), `cut at ${n}`).rejects.toThrow(CorruptPackError);
    }
  });

  it('rejects trailing garbage, in the same chunk or a later one', async () => {
    const p = smallPack();
    await expect(readPackBytes(concat([p, Uint8Array.of(0)]))).rejects.toThrow(/trailing/);
    await expect(readAll(asAsync([p, new Uint8Array(0), Uint8Array.of(1, 2)]))).rejects.toThrow(/trailing/);
  });

  it('rejects a bad signature and a bad version', async () => {
    const p = smallPack();
    const sig = p.slice();
    sig[0] = 0x51;
    await expect(readPackBytes(sig)).rejects.toThrow(CorruptPackError);
    const v = p.slice(0, p.length - 20);
    v[7] = 4;
    await expect(readPackBytes(withChecksum(v))).rejects.toThrow(/version 4/);
  });

  it('rejects a count that does not match the entries', async () => {
    const p = smallPack();
    const more = p.slice(0, p.length - 20);
    more[11] = 4; // declares 4, has 3: the checksum bytes get parsed as an entry, then input ends
    await expect(readPackBytes(withChecksum(more))).rejects.toThrow(CorruptPackError);
    const fewer = p.slice(0, p.length - 20);
    fewer[11] = 2; // declares 2, has 3: the third entry is not the checksum
    await expect(readPackBytes(withChecksum(fewer))).rejects.toThrow(CorruptPackError);
    const huge = p.slice(0, p.length - 20);
    huge.set([0xff, 0xff, 0xff, 0xff], 8);
    await expect(readPackBytes(withChecksum(huge))).rejects.toThrow(LimitExceededError);
  });

  it('refuses an entry declaring 10 GB before allocating or waiting for its data', async () => {
    const head = concat([Uint8Array.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]), encodeEntryHeader(3, 10 * 2 ** 30)]);
    const before = process.memoryUsage().arrayBuffers;
    const t = performance.now();
    // The source never ends: the reader must fail on the header alone.
    async function* endless() {
      yield head;
      for (;;) yield new Uint8Array(16);
    }
    await expect(readAll(endless())).rejects.toThrow(LimitExceededError);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a delta whose declared result is huge', async () => {
    const base = utf8('base');
    const delta = Uint8Array.from([4, 0x80, 0x80, 0x80, 0x80, 0x40, 0x90, 4]); // result 2^34
    const refDelta = concat([encodeEntryHeader(OBJ_REF_DELTA, delta.length), oidToBytes(hashObject('blob', base)), platform().deflate(delta)]);
    const pack = writePackSync([encodePackEntry('blob', base), refDelta]);
    await expect(readPackBytes(pack)).rejects.toThrow(LimitExceededError);
  });

  it('rejects a delta copying outside its base', async () => {
    const base = utf8('base');
    const delta = Uint8Array.from([4, 8, 0x80 | 0x01 | 0x10, 2, 8]);
    const ofs = concat([encodeEntryHeader(OBJ_OFS_DELTA, delta.length), encodeOfsOffset(encodePackEntry('blob', base).length), platform().deflate(delta)]);
    const pack = writePackSync([encodePackEntry('blob', base), ofs]);
    await expect(readPackBytes(pack)).rejects.toThrow(CorruptPackError);
  });

  it('rejects a ref-delta cycle, naming the missing bases', async () => {
    const a = utf8('aaaa');
    const b = utf8('bbbb');
    const aOid = hashObject('blob', a);
    const bOid = hashObject('blob', b);
    const ref = (base: Oid, d: Uint8Array) => concat([encodeEntryHeader(OBJ_REF_DELTA, d.length), oidToBytes(base), platform().deflate(d)]);
    // A as a delta of B, B as a delta of A: neither can ever be resolved.
    const pack = writePackSync([ref(bOid, createDelta(b, a)), ref(aOid, createDelta(a, b))]);
    await expect(readPackBytes(pack)).rejects.toThrow(new RegExp(`missing delta base .*(${aOid}|${bOid})`));
    await expect(readPackBytes(pack)).rejects.toThrow(CorruptPackError);
  });

  it('rejects an ofs-delta pointing at no entry or before the pack', async () => {
    const base = encodePackEntry('blob', utf8('base'));
    const d = createDelta(utf8('base'), utf8('based'));
    const ofs = (distance: number) => concat([encodeEntryHeader(OBJ_OFS_DELTA, d.length), encodeOfsOffset(distance), platform().deflate(d)]);
    await expect(readPackBytes(writePackSync([base, ofs(base.length - 1)]))).rejects.toThrow(/not an entry/);
    await expect(readPackBytes(writePackSync([base, ofs(base.length + 100)]))).rejects.toThrow(/before the pack/);
  });

  it('rejects entries whose inflated size differs from the header', async () => {
    const body = utf8('twelve bytes');
    const z = platform().deflate(body);
    await expect(readPackBytes(writePackSync([concat([encodeEntryHeader(3, 11), z])]))).rejects.toThrow(CorruptPackError);
    await expect(readPackBytes(writePackSync([concat([encodeEntryHeader(3, 13), z])]))).rejects.toThrow(CorruptPackError);
  });

  it('rejects a zlib stream padded far beyond its content', async () => {
    // Empty stored blocks (00 00 00 ff ff) forever after a zlib header: never ends, never grows.
    const pad = new Uint8Array(5000 * 5);
    for (let i = 0; i < 5000; i++) pad.set([0x00, 0x00, 0x00, 0xff, 0xff], i * 5);
    const entry = concat([encodeEntryHeader(3, 0), Uint8Array.of(0x78, 0x01), pad]);
    const head = Uint8Array.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]);
    await expect(readChunked(concat([head, entry]), 1000)).rejects.toThrow(/longer than/);
  });

  it('rejects corrupt zlib data and type 5', async () => {
    const bad = concat([encodeEntryHeader(3, 4), Uint8Array.of(0x78, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)]);
    await expect(readPackBytes(writePackSync([bad]))).rejects.toThrow(CorruptPackError);
    const t5 = concat([Uint8Array.of(0x54), platform().deflate(utf8('abcd'))]);
    await expect(readPackBytes(writePackSync([t5]))).rejects.toThrow(CorruptPackError);
  });

  it('enforces maxPackBytes, maxObjectSize and maxDeltaDepth', async () => {
    const p = smallPack();
    await expect(readPackBytes(p, { maxPackBytes: p.length - 1 })).rejects.toThrow(LimitExceededError);
    await expect(readPackBytes(p, { maxObjectSize: 299 })).rejects.toThrow(LimitExceededError);
    let prev = utf8('v0');
    const entries = [encodePackEntry('blob', prev)];
    for (let i = 1; i <= 5; i++) {
      const next = utf8(`v${i}`);
      const d = createDelta(prev, next);
      entries.push(concat([encodeEntryHeader(OBJ_REF_DELTA, d.length), oidToBytes(hashObject('blob', prev)), platform().deflate(d)]));
      prev = next;
    }
    expect((await readPackBytes(writePackSync(entries), { maxDeltaDepth: 5 })).length).toBe(6);
    await expect(readPackBytes(writePackSync(entries), { maxDeltaDepth: 4 })).rejects.toThrow(LimitExceededError);
  });

  it('never crashes on random corruption: only typed errors', async () => {
    const good = smallPack();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
        const p = good.slice();
        for (const [i, x] of flips) p[i] ^= x;
        try {
          await readPackBytes(p);
          // A flip that leaves the pack valid is impossible: the checksum covers everything.
          expect.unreachable('corrupted pack was accepted');
        } catch (err) {
          expect(err instanceof CorruptPackError || err instanceof LimitExceededError, String(err)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
