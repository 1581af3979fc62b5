/**
 * Packs that find their deltas on the way (pack-out.ts `plannedBatches`): the first entries
 * leave after one batch of lookups, not after a lookup of every object, and the pack is the
 * same: every object once, deltas whose base travels go out as deltas after it, the others whole.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { createDelta } from '../../src/pack/delta.js';
import { TAG, deltaKey, objectKey } from '../../src/storage/keys.js';
import { concat } from '../../src/platform/bytes.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { packBytes } from '../../src/repo/pack-out.js';

const enc = new TextEncoder();

function body(i: number, edited = false): Uint8Array {
  return enc.encode(Array.from({ length: 40 }, (_, k) => `blob ${i} line ${k}${edited && k === 7 ? ' edited' : ''}\n`).join(''));
}

describe('packs streamed before their deltas are known', () => {
  it('sends whole entries after one batch of delta lookups, then the deltas after their bases', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db, packCache: { maxBytes: 0, warm: false } });
    const objects = internalsOf(await engine.createRepo('r')).objects;
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    // 3,000 blobs stored whole; 200 more stored only as deltas of some of them, and 100 stored
    // whole beside a delta (as materialized tip objects are) against a blob the pack lacks.
    const whole: Oid[] = [];
    const bodies = new Map<Oid, Uint8Array>();
    for (let i = 0; i < 3000; i++) {
      const b = body(i);
      const oid = hashObject('blob', b);
      whole.push(oid);
      bodies.set(oid, b);
      ops.push({ type: 'put', key: objectKey(objects.repoId, oidToBytes(oid)), value: encodePacked('blob', b) });
    }
    const deltas: Oid[] = [];
    for (let i = 0; i < 300; i++) {
      const baseBody = i < 200 ? body(i * 7) : body(100_000 + i);
      const baseOid = hashObject('blob', baseBody);
      const b = body(i * 7, true).map((x, k) => (k === 0 ? 0x41 + (i % 20) : x));
      const oid = hashObject('blob', b);
      bodies.set(oid, b);
      deltas.push(oid);
      const entry = encodeRefDelta(oidToBytes(baseOid), createDelta(baseBody, b));
      ops.push({ type: 'put', key: deltaKey(objects.repoId, oidToBytes(oid)), value: encodeStoredDelta('blob', b.length, entry) });
      if (i >= 200) ops.push({ type: 'put', key: objectKey(objects.repoId, oidToBytes(oid)), value: encodePacked('blob', b) });
    }
    await db.batch(ops as never, { keyEncoding: 'view', valueEncoding: 'view' });
    // Deltas listed first, as a walk may list a tree's files before the ones they were deltas of.
    const oids = [...deltas, ...whole];

    // Counts the `D` keys asked for until the first entries are yielded.
    const kv = objects.kv;
    const getMany = kv.getMany.bind(kv);
    let deltaReads = 0;
    kv.getMany = (keys: Uint8Array[]) => {
      deltaReads += keys.filter((k) => k[0] === TAG.delta).length;
      return getMany(keys);
    };
    const chunks: Uint8Array[] = [];
    let readsBeforeEntries = -1;
    for await (const c of packBytes(objects, oids, true, undefined, { ofsDelta: true })) {
      if (chunks.length === 1) readsBeforeEntries = deltaReads;
      chunks.push(c);
    }
    // The header goes first; the first entries after the lookups of at most two batches (the
    // first and the one read ahead), not all 3,300.
    expect(readsBeforeEntries).toBeGreaterThan(0);
    expect(readsBeforeEntries).toBeLessThanOrEqual(1024);

    const read = await readPackBytes(concat(chunks));
    expect(read.map((o) => o.oid).sort()).toEqual([...oids].sort());
    const seen = new Set<string>();
    for (const o of read) {
      expect(Buffer.from(o.body).equals(Buffer.from(bodies.get(o.oid as Oid)!))).toBe(true);
      if (o.delta) expect(seen.has(o.delta.base)).toBe(true);
      seen.add(o.oid);
    }
    // The 200 whose base travels go as deltas, after every whole object; the 100 whose base
    // does not go whole, from their whole entries.
    expect(
      read
        .filter((o) => o.delta !== undefined)
        .map((o) => o.oid)
        .sort(),
    ).toEqual(deltas.slice(0, 200).sort());
    expect(read.slice(0, 3100).every((o) => o.delta === undefined)).toBe(true);
    await engine.close();
  });
});
