/**
 * The worker path of pack reading (readPackAuto on Node: a pooled worker thread) gives
 * byte-identical results to the inline readPack, for random packs in random chunkings, thin
 * packs, evicted bases, the inline-to-worker hand-off and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readPack, type PackObject, type ReadPackOptions } from '../../src/pack/pack-reader.js';
import { readPackAuto } from '../../src/pack/read-pack-auto.js';
import type { ReadObject } from '../../src/pack/worker-protocol.js';
import { decodePacked } from '../../src/object/packed.js';
import { applyDelta } from '../../src/pack/delta.js';
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';
import { CorruptPackError, LimitExceededError } from '../../src/errors.js';
import { equal } from '../../src/platform/bytes.js';
import { platform } from '../../src/platform/index.js';
import { encodePackEntry, noise, ofsDelta, refDelta, versionChains, writePackSync, zeroBlobEntry } from './crafted-packs.js';
import { asAsync, chunks, git, makeHistoryRepo, tempDir } from './git-helpers.js';

const KiB = 1024;

async function collect(gen: AsyncIterable<PackObject[]>): Promise<PackObject[]> {
  const out: PackObject[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && equal(a, b);
}

function expectIdentical(worker: PackObject[], inline: PackObject[]): void {
  expect(worker.map((o) => o.oid)).toEqual(inline.map((o) => o.oid));
  worker.forEach((o, i) => {
    const p = inline[i]!;
    expect(o.type).toBe(p.type);
    expect(same(o.body, p.body)).toBe(true);
    expect(same(o.entry, p.entry)).toBe(true);
    expect(same(o.deltaEntry, p.deltaEntry)).toBe(true);
    expect(same(o.stored, p.stored)).toBe(true);
    expect(o.delta?.base).toBe(p.delta?.base);
    expect(same(o.delta?.data, p.delta?.data)).toBe(true);
  });
}

/** A pseudo-random generator for one pack. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** A delta from `base` made of copies of its ranges and random inserts. */
function randomDelta(base: Uint8Array, r: (n: number) => number): Uint8Array {
  const ops: number[] = [];
  const varint = (n: number) => {
    while (n >= 0x80) {
      ops.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    ops.push(n);
  };
  const body: number[] = [];
  let size = 0;
  for (let k = 1 + r(6); k > 0; k--) {
    if (base.length > 0 && r(3) > 0) {
      const off = r(base.length);
      const len = 1 + r(Math.min(0xffff, base.length - off));
      body.push(0x80 | 0x0f | 0x30, off & 0xff, (off >> 8) & 0xff, (off >> 16) & 0xff, off >>> 24, len & 0xff, len >> 8);
      size += len;
    } else {
      const n = 1 + r(100);
      body.push(n);
      for (let j = 0; j < n; j++) body.push(r(256));
      size += n;
    }
  }
  varint(base.length);
  varint(size);
  return Uint8Array.from([...ops, ...body]);
}

/** A random pack: whole blobs (some over 64 KiB), ofs- and ref-deltas, ref-deltas before their base. */
function randomPack(seed: number): Uint8Array {
  const r = rng(seed);
  const entries: Uint8Array[] = [];
  const offsets: number[] = [];
  const objects: { oid: Oid; body: Uint8Array; entry: number }[] = [];
  let offset = 12;
  const add = (e: Uint8Array) => {
    offsets.push(offset);
    entries.push(e);
    offset += e.length;
  };
  const later: Uint8Array[] = [];
  for (let i = 0, n = 3 + r(25); i < n; i++) {
    const kind = objects.length === 0 ? 0 : r(5);
    if (kind === 0 || kind === 4) {
      const size = r(4) === 0 ? 64 * KiB + r(200 * KiB) : r(3000);
      const body = noise(size, seed * 31 + i + 1);
      const type: ObjectType = 'blob';
      if (kind === 4) {
        // A ref-delta sent before its base (deferred until the base comes).
        const d = randomDelta(body, r);
        add(refDelta(hashObject(type, body), d));
        later.push(encodePackEntry(type, body));
        continue;
      }
      objects.push({ oid: hashObject(type, body), body, entry: entries.length });
      add(encodePackEntry(type, body));
    } else {
      const base = objects[r(objects.length)]!;
      const d = randomDelta(base.body, r);
      const body = applyDelta(base.body, d);
      const idx = entries.length;
      add(kind === 1 ? ofsDelta(offset - offsets[base.entry]!, d) : refDelta(base.oid, d));
      objects.push({ oid: hashObject('blob', body), body, entry: idx });
    }
    if (later.length > 0 && r(3) === 0) add(later.shift()!);
  }
  for (const e of later) add(e);
  return writePackSync(entries);
}

describe('readPackAuto in a worker thread', () => {
  it('has a worker pool on Node', () => {
    expect(platform().workers).toBeDefined();
  });

  it('gives byte-identical results to the inline reader (random packs, random chunking)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 70_000 }), async (seed, chunk) => {
        const pack = randomPack(seed);
        const inline = await collect(readPack(asAsync(chunks(pack, chunk))));
        const worker = await collect(readPackAuto(asAsync(chunks(pack, chunk)), { worker: 'worker' }));
        expectIdentical(worker, inline);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('recycles bodies that left a small base cache and still gives byte-identical results', async () => {
    // 8 MB of bodies from 1 to 100 KiB, versions of files as delta chains, through a 4 MiB cache:
    // the worker reuses the memory of bodies that left it (pack/slabs.ts `recycle`).
    const { pack, objects } = versionChains(16, 20, [1 * KiB, 6 * KiB, 15 * KiB, 17 * KiB, 40 * KiB, 100 * KiB]);
    const opts: ReadPackOptions = { baseCacheBytes: 4 * 1024 * KiB, packedBaseBytes: 1024 * KiB };
    const inline = await collect(readPack(asAsync(chunks(pack, 65536)), opts));
    const worker = await collect(readPackAuto(asAsync(chunks(pack, 65536)), { ...opts, worker: 'worker' }));
    expect(inline.map((o) => o.oid)).toEqual(objects.map((o) => o.oid));
    expectIdentical(worker, inline);
  });

  it('with dropDeltaData, sends deltas without their data and with the same D values', async () => {
    for (const seed of [3, 17, 99]) {
      const pack = randomPack(seed);
      const inline = await collect(readPack(asAsync(chunks(pack, 9000))));
      const worker = await collect(readPackAuto(asAsync(chunks(pack, 9000)), { worker: 'worker', dropDeltaData: true }));
      expect(worker.map((o) => o.oid)).toEqual(inline.map((o) => o.oid));
      expect(inline.some((o) => o.delta !== undefined)).toBe(true);
      worker.forEach((o, i) => {
        const p = inline[i]!;
        expect(same(o.body, p.body)).toBe(true);
        expect(same(o.stored, p.stored)).toBe(true);
        expect(same(o.deltaEntry, p.deltaEntry)).toBe(true);
        expect(o.delta?.base).toBe(p.delta?.base);
        if (o.delta !== undefined) expect(o.delta.data.length).toBe(0);
      });
    }
  });

  it('with recycleBodies, gives each batch buffer back for the next one and keeps pieces, entries and D values valid', async () => {
    // Over 4096 objects: several batches. Bodies copied as they come (the consumer's side of the contract).
    const blobs = Array.from({ length: 9000 }, (_, i) => encodePackEntry('blob', Uint8Array.from([i & 0xff, i >> 8, 7])));
    const big = noise(300 * KiB, 5);
    const pack = writePackSync([...blobs, encodePackEntry('blob', big), ...blobs.slice(0, 5).map(() => encodePackEntry('blob', noise(100, 6)))]);
    const opts = { streamBlobsOver: 200 * KiB };
    const inline = await collect(readPack(asAsync(chunks(pack, 7000)), opts));
    const got: PackObject[] = [];
    const firstBodies: Uint8Array[] = [];
    for await (const b of readPackAuto(asAsync(chunks(pack, 7000)), { ...opts, worker: 'worker', recycleBodies: true })) {
      if (firstBodies.length === 0) firstBodies.push(...b.map((o) => o.body));
      got.push(...b.map((o) => ({ ...o, body: o.body.slice() })));
    }
    const pieces = (os: PackObject[]) => Buffer.concat(os.flatMap((o) => (o.piece === undefined ? [] : [o.piece])));
    expectIdentical(
      got.filter((o) => o.piece === undefined),
      inline.filter((o) => o.piece === undefined),
    );
    expect(got.some((o) => o.piece !== undefined && o.piece.length < 64 * KiB)).toBe(true);
    expect(pieces(got).equals(pieces(inline))).toBe(true);
    // The first batch's bodies went back to the worker: their views are empty now.
    expect(firstBodies.every((b) => b.length === 0)).toBe(true);
  });

  it('hands a small pack over to a worker when it would inflate past inlineMaxInflatedBytes, skipping what was yielded', async () => {
    for (const seed of [3, 17, 99]) {
      const pack = randomPack(seed);
      const inline = await collect(readPack(asAsync(chunks(pack, 4096))));
      const opts: ReadPackOptions = { inlineMaxInflatedBytes: 50 * KiB, inlineMaxBytes: pack.length + 1 };
      // Batches of one object (small batch byte size is internal): check the order too.
      expectIdentical(await collect(readPackAuto(asAsync(chunks(pack, 4096)), opts)), inline);
      expectIdentical(await collect(readPackAuto(asAsync(chunks(pack, 4096)), { inlineMaxBytes: 100 })), inline);
    }
    // A first batch (4096 objects) leaves inline before the big blob moves the read to a worker.
    const tiny = Array.from({ length: 4200 }, (_, i) => encodePackEntry('blob', Uint8Array.from([i & 0xff, i >> 8])));
    const pack = writePackSync([...tiny, encodePackEntry('blob', noise(100 * KiB, 4)), ...tiny.slice(0, 10)]);
    const batches: number[] = [];
    const got: PackObject[] = [];
    for await (const b of readPackAuto(asAsync([pack]), { inlineMaxInflatedBytes: 60 * KiB, inlineMaxBytes: 1024 * KiB })) {
      batches.push(b.length);
      got.push(...b);
    }
    expect(batches[0]).toBe(4096);
    expectIdentical(got, await collect(readPack(asAsync([pack]))));
  }, 60_000);

  describe('on packs made by git', () => {
    let tmp: ReturnType<typeof tempDir>;
    let repo: string;
    beforeAll(() => {
      tmp = tempDir();
      ({ repo } = makeHistoryRepo(tmp.dir));
    });
    afterAll(() => tmp.cleanup());

    it('reads ofs-delta and ref-delta packs, thin packs through getBase, and evicted bases', async () => {
      for (const args of [['--delta-base-offset'], []]) {
        const pack = new Uint8Array(git(repo, ['pack-objects', '--stdout', '-q', '--revs', '--all', '--depth=50', ...args], ''));
        const inline = await collect(readPack(asAsync(chunks(pack, 5000))));
        // Options of the caller's own (ingest's, with functions) never cross to the worker.
        const callers = { worker: 'worker', fsck: { check: () => true } } as ReadPackOptions;
        expectIdentical(await collect(readPackAuto(asAsync(chunks(pack, 5000)), callers)), inline);
        // A tiny base cache: evicted bases come back through getBase, across threads.
        const byOid = new Map(inline.map((o) => [o.oid, o]));
        const getBase = async (oid: Oid) => {
          const o = byOid.get(oid);
          return o && { type: o.type, body: o.body };
        };
        const small = await collect(readPackAuto(asAsync(chunks(pack, 5000)), { worker: 'worker', baseCacheBytes: 1, packedBaseBytes: 0, getBase }));
        expectIdentical(small, inline);
      }
      // A base in an earlier batch, evicted from a one-byte cache: asked of the main thread.
      const a = noise(300 * KiB, 21);
      const fill = [1, 2, 3].map((i) => encodePackEntry('blob', noise(100 * KiB, 30 + i)));
      const first = encodePackEntry('blob', a);
      const distance = first.length + fill.reduce((n, e) => n + e.length, 0);
      const evicting = writePackSync([first, ...fill, ofsDelta(distance, randomDelta(a, rng(5)))]);
      const objects = await collect(readPack(asAsync(chunks(evicting, 5000))));
      const held = new Map(objects.map((o) => [o.oid, o]));
      let asked = 0;
      const fromMain = async (oid: Oid) => {
        asked++;
        const o = held.get(oid);
        return o && { type: o.type, body: o.body };
      };
      expectIdentical(
        await collect(readPackAuto(asAsync(chunks(evicting, 5000)), { worker: 'worker', baseCacheBytes: 1, packedBaseBytes: 0, getBase: fromMain })),
        objects,
      );
      expect(asked).toBeGreaterThan(0);
      const thin = new Uint8Array(git(repo, ['pack-objects', '--stdout', '-q', '--revs', '--thin'], 'HEAD\n^HEAD~3\n'));
      const full = await collect(readPack(asAsync([new Uint8Array(git(repo, ['pack-objects', '--stdout', '-q', '--revs', '--all'], ''))])));
      const store = new Map(full.map((o) => [o.oid, o]));
      const getBase = async (oid: Oid) => {
        const o = store.get(oid);
        return o && { type: o.type, body: o.body };
      };
      const inline = await collect(readPack(asAsync([thin]), { getBase }));
      expectIdentical(await collect(readPackAuto(asAsync(chunks(thin, 777)), { worker: 'worker', getBase })), inline);
    }, 60_000);
  });

  it('with dropBlobBodies, leaves out the bodies of blobs that can be stored without them, with their sizes', async () => {
    const tmp = tempDir();
    try {
      const { repo } = makeHistoryRepo(tmp.dir);
      const pack = new Uint8Array(git(repo, ['pack-objects', '--stdout', '-q', '--revs', '--all', '--depth=50', '--delta-base-offset'], ''));
      const inline = await collect(readPack(asAsync(chunks(pack, 5000))));
      const opts = { worker: 'worker', wholeBesideDeltas: true, dropBlobBodies: 1 } as const;
      const worker = (await collect(readPackAuto(asAsync(chunks(pack, 5000)), opts))) as ReadObject[];
      expect(worker.map((o) => o.oid)).toEqual(inline.map((o) => o.oid));
      let dropped = 0;
      let deep = 0;
      worker.forEach((o, i) => {
        const p = inline[i]!;
        expect(same(o.entry, p.entry)).toBe(true);
        expect(same(o.stored, p.stored)).toBe(true);
        if (o.dropped === undefined) {
          expect(same(o.body, p.body)).toBe(true);
          return;
        }
        dropped++;
        expect([o.type, o.body.length, o.dropped]).toEqual(['blob', 0, p.body.length]);
        // What is stored instead: the whole entry, or the D value and, past the depth, the deflated whole.
        if (p.stored === undefined) expect(o.entry).toBeDefined();
        else if ((p.delta?.depth ?? 0) > 1) {
          deep++;
          expect(same(decodePacked(o.whole!).body, p.body)).toBe(true);
        }
      });
      expect(dropped).toBeGreaterThan(0);
      expect(deep).toBeGreaterThan(0);
      expect(worker.some((o) => o.type !== 'blob' && o.body.length > 0)).toBe(true);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  it('throws the typed errors of the inline reader', async () => {
    const bomb = writePackSync([zeroBlobEntry(4 * 1024 * KiB)]);
    const err = await collect(readPackAuto(asAsync([bomb]), { worker: 'worker', maxInflatedBytes: 1024 * KiB })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).details.limit).toBe('maxInflatedBytes');
    const bad = randomPack(5);
    bad[bad.length - 1]! ^= 1;
    await expect(collect(readPackAuto(asAsync([bad]), { worker: 'worker' }))).rejects.toThrow(CorruptPackError);
    await expect(collect(readPackAuto(asAsync([bad.subarray(0, bad.length - 30)]), { worker: 'worker' }))).rejects.toThrow(/truncated/);
    // An error of the caller's getBase is the read's error.
    const thin = writePackSync([refDelta('ab'.repeat(20) as Oid, Uint8Array.from([0, 1, 1, 120]))]);
    const failing = async () => {
      throw new Error('store is down');
    };
    await expect(collect(readPackAuto(asAsync([thin]), { worker: 'worker', getBase: failing }))).rejects.toThrow('store is down');
  }, 60_000);

  it('stops the worker when the consumer stops early, and serves the next read', async () => {
    const pack = randomPack(11);
    for await (const batch of readPackAuto(asAsync(chunks(pack, 100)), { worker: 'worker' })) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    const inline = await collect(readPack(asAsync([pack])));
    expectIdentical(await collect(readPackAuto(asAsync([pack]), { worker: 'worker' })), inline);
  }, 60_000);

  it('hands over a big entry that arrived in small chunks, and reads on after it', async () => {
    const big = noise(3 * 1024 * KiB, 8);
    const small = noise(100, 9);
    const pack = writePackSync([
      encodePackEntry('blob', small),
      encodePackEntry('blob', big),
      encodePackEntry('blob', noise(200 * KiB, 10)),
      encodePackEntry('blob', small.subarray(1)),
    ]);
    for (const size of [4096, 65536, 1000003]) {
      const inline = await collect(readPack(asAsync(chunks(pack, size))));
      expect(inline.map((o) => o.body.length)).toEqual([100, 3 * 1024 * KiB, 200 * KiB, 99]);
      expect(equal(inline[1]!.body, big)).toBe(true);
      expect(equal(platform().inflate(inline[1]!.entry!.subarray(4)), big)).toBe(true);
      expectIdentical(await collect(readPackAuto(asAsync(chunks(pack, size)), { worker: 'worker' })), inline);
    }
  }, 60_000);

  it('sends a source chunk of several MiB in pieces and never detaches the buffer the source owns', async () => {
    const pack = writePackSync([encodePackEntry('blob', noise(3 * 1024 * KiB, 11)), encodePackEntry('blob', noise(100, 12))]);
    // One view into a larger buffer (as Node's pooled Buffers are), then small pieces of the same.
    const owned = new Uint8Array(pack.length + 64);
    owned.set(pack, 32);
    const view = owned.subarray(32, 32 + pack.length);
    const inline = await collect(readPack(asAsync([pack])));
    expectIdentical(await collect(readPackAuto(asAsync([view]), { worker: 'worker' })), inline);
    expectIdentical(await collect(readPackAuto(asAsync(chunks(view, 1000)), { worker: 'worker' })), inline);
    expect(owned.byteLength).toBe(pack.length + 64);
    expect(equal(view, pack)).toBe(true);
  }, 60_000);

  it('reads inline when asked to', async () => {
    const pack = randomPack(12);
    expectIdentical(await collect(readPackAuto(asAsync([pack]), { worker: 'inline' })), await collect(readPack(asAsync([pack]))));
  });
});
