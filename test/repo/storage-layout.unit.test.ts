/**
 * The object store over both storage layouts: objects kept whole (`O`), kept only as the delta
 * they arrived as (`D`, new layout: type and size before the entry), or both (the previous
 * layout, and objects materialized for depth-1 clones). Every read resolves delta chains; the
 * sweep's iterators see every object once.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { hashObject, oidFromBytes, oidToBytes, type Oid } from '../../src/object/oid.js';
import { deltaEntryOf, encodePacked, encodeRefDelta, encodeStoredDelta, refDeltaBase } from '../../src/object/packed.js';
import type { ObjectStore } from '../../src/object/object-store.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { concat } from '../../src/platform/bytes.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { packBytes } from '../../src/repo/pack-out.js';

const enc = new TextEncoder();

/** A blob body of `n` numbered lines, line `changed` edited. */
function version(n: number, changed: number): Uint8Array {
  return enc.encode(Array.from({ length: n }, (_, i) => (i === changed ? `line ${i} edited\n` : `line ${i} of a blob\n`)).join(''));
}

/** Writes a chain of blobs: the first whole, each next one D-only against the one before (new layout). */
async function writeChain(db: MemoryLevel, repoId: number, length: number): Promise<{ oids: Oid[]; bodies: Uint8Array[] }> {
  const bodies = Array.from({ length }, (_, i) => version(200, i));
  const oids = bodies.map((b) => hashObject('blob', b));
  const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  ops.push({ type: 'put', key: objectKey(repoId, oidToBytes(oids[0]!)), value: encodePacked('blob', bodies[0]!) });
  for (let i = 1; i < length; i++) {
    const entry = encodeRefDelta(oidToBytes(oids[i - 1]!), createDelta(bodies[i - 1]!, bodies[i]!));
    ops.push({ type: 'put', key: deltaKey(repoId, oidToBytes(oids[i]!)), value: encodeStoredDelta('blob', bodies[i]!.length, entry) });
  }
  await db.batch(ops as never, { keyEncoding: 'view', valueEncoding: 'view' });
  return { oids, bodies };
}

async function open(): Promise<{ db: MemoryLevel; engine: Engine }> {
  const db = new MemoryLevel();
  return { db, engine: await openEngine({ db }) };
}

/** Every stored delta with its base, from the `D` range as the sweep reads it (either layout). */
async function* deltaLinks(objects: ObjectStore): AsyncGenerator<[Oid, Oid]> {
  for await (const batch of objects.deltaRange()) for (const [k, v] of batch) yield [oidFromBytes(k, 5), refDeltaBase(deltaEntryOf(v)) as Oid];
}

describe('object store layouts', () => {
  it('allOids yields every object once, and the delta range every delta with its base', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const { oids } = await writeChain(db, objects.repoId, 5);
    // One of them stored both ways (the previous layout, or materialized).
    await db.put(objectKey(objects.repoId, oidToBytes(oids[2]!)), encodePacked('blob', version(200, 2)), { keyEncoding: 'view', valueEncoding: 'view' });
    const all: Oid[] = [];
    for await (const o of objects.allOids()) all.push(o);
    expect(all.sort()).toEqual([...oids].sort());
    const links: [Oid, Oid][] = [];
    for await (const l of deltaLinks(objects)) links.push(l);
    expect(links.sort()).toEqual(
      oids
        .slice(1)
        .map((o, i) => [o, oids[i]!] as [Oid, Oid])
        .sort(),
    );
    await objects.delete([oids[2]!]);
    expect(await objects.has([oids[2]!, oids[3]!])).toEqual([false, true]);
    await engine.close();
  });

  it('reads objects stored only as deltas: bodies, types and sizes, decoded trees, whole entries', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const { oids, bodies } = await writeChain(db, objects.repoId, 60);
    const raws = await objects.readMany(oids);
    raws.forEach((r, i) => expect(Buffer.from(r!.body).equals(Buffer.from(bodies[i]!))).toBe(true));
    expect((await objects.read(oids[59]!)).type).toBe('blob');
    expect(await objects.info([oids[0]!, oids[59]!, '0'.repeat(40) as Oid])).toEqual([
      { type: 'blob', size: bodies[0]!.length },
      { type: 'blob', size: bodies[59]!.length },
      undefined,
    ]);
    expect(await objects.has([oids[30]!, '1'.repeat(40) as Oid])).toEqual([true, false]);
    const [whole] = await objects.getStored([oids[40]!]);
    expect(whole).toEqual(encodePacked('blob', bodies[40]!));
    // Nothing was written back by reading.
    expect(await db.get(objectKey(objects.repoId, oidToBytes(oids[40]!)), { keyEncoding: 'view', valueEncoding: 'view' })).toBeUndefined();
    await engine.close();
  });

  it('materializeMissing writes whole entries for objects stored only as deltas, without reading the present ones', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const { oids, bodies } = await writeChain(db, objects.repoId, 6);
    const view = { keyEncoding: 'view', valueEncoding: 'view' } as const;
    const getMany = db.getMany.bind(db);
    const valuesRead: number[] = [];
    db.getMany = ((keys: never[], options: never) => {
      valuesRead.push(keys.length);
      return getMany(keys, options);
    }) as typeof db.getMany;
    await objects.materializeMissing(oids);
    db.getMany = getMany;
    // Presence is asked with hasMany; values are read only to resolve the five delta-only objects.
    expect(valuesRead.every((n) => n <= 5)).toBe(true);
    for (let i = 0; i < oids.length; i++) {
      const whole = await db.get(objectKey(objects.repoId, oidToBytes(oids[i]!)), view);
      expect(whole).toBeDefined();
      expect((await objects.materialize([oids[i]!]))[0]).toEqual(whole);
      expect(Buffer.from((await objects.read(oids[i]!)).body).equals(Buffer.from(bodies[i]!))).toBe(true);
    }
    await engine.close();
  });

  it('a pack of a long stored chain sends deltas after their bases and cuts chains at 50, materializing the cut', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const { oids, bodies } = await writeChain(db, objects.repoId, 120);
    // Newest first, as a walk lists them: every delta's base comes later in the list.
    const order = [...oids].reverse();
    const chunks: Uint8Array[] = [];
    for await (const c of packBytes(objects, order, true, undefined, { ofsDelta: true })) chunks.push(c);
    const read = await readPackBytes(concat(chunks));
    expect(read.map((o) => o.oid).sort()).toEqual([...oids].sort());
    const byOid = new Map(read.map((o) => [o.oid, o]));
    oids.forEach((o, i) => expect(Buffer.from(byOid.get(o)!.body).equals(Buffer.from(bodies[i]!))).toBe(true));
    // 120 links: the chain root and the objects at 51 and 102 go whole, the rest as deltas.
    expect(
      read
        .filter((o) => o.delta === undefined)
        .map((o) => o.oid)
        .sort(),
    ).toEqual([oids[0]!, oids[51]!, oids[102]!].sort());
    const seen = new Set<string>();
    for (const o of read) {
      if (o.delta) expect(seen.has(o.delta.base)).toBe(true);
      seen.add(o.oid);
    }
    // The cut objects were written back whole; the others stay deltas only.
    const whole = (o: Oid): Promise<Uint8Array | undefined> => db.get(objectKey(objects.repoId, oidToBytes(o)), { keyEncoding: 'view', valueEncoding: 'view' });
    expect(new Uint8Array((await whole(oids[51]!))!)).toEqual(encodePacked('blob', bodies[51]!));
    expect(await whole(oids[50]!)).toBeUndefined();
    await engine.close();
  });

  it('a previous-layout database (every object whole, deltas beside without type) reads and packs as before', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const bodies = Array.from({ length: 5 }, (_, i) => version(100, i));
    const oids = bodies.map((b) => hashObject('blob', b));
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    bodies.forEach((b, i) => {
      ops.push({ type: 'put', key: objectKey(objects.repoId, oidToBytes(oids[i]!)), value: encodePacked('blob', b) });
      if (i > 0)
        ops.push({
          type: 'put',
          key: deltaKey(objects.repoId, oidToBytes(oids[i]!)),
          value: encodeRefDelta(oidToBytes(oids[i - 1]!), createDelta(bodies[i - 1]!, b)),
        });
    });
    await db.batch(ops as never, { keyEncoding: 'view', valueEncoding: 'view' });
    expect(await objects.info(oids)).toEqual(bodies.map((b) => ({ type: 'blob', size: b.length })));
    const links: [Oid, Oid][] = [];
    for await (const l of deltaLinks(objects)) links.push(l);
    expect(links.length).toBe(4);
    const chunks: Uint8Array[] = [];
    for await (const c of packBytes(objects, oids, true, undefined)) chunks.push(c);
    const read = await readPackBytes(concat(chunks));
    expect(read.filter((o) => o.delta !== undefined).length).toBe(4);
    read.forEach((o) => expect(Buffer.from(o.body).equals(Buffer.from(bodies[oids.indexOf(o.oid)]!))).toBe(true));
    await engine.close();
  });

  it('a sweep stores whole a live object kept as a delta of a dead one, and lets the dead chain go', async () => {
    const { db, engine } = await open();
    const repo = await engine.createRepo('r');
    const internals = internalsOf(repo);
    const objects = internals.objects;
    const { oids, bodies } = await writeChain(db, objects.repoId, 8);
    // Only the fourth version is reachable (a tag names it); it is stored as a delta of the
    // third, and so on: the three before it and the four after it are garbage.
    await internals.transact([{ ref: 'refs/tags/v4', oldOid: '0'.repeat(40) as Oid, newOid: oids[3]!, space: 'regular' }], 'api');
    expect((await repo.sweep()).objects).toBe(7);
    expect(await objects.has(oids)).toEqual([false, false, false, true, false, false, false, false]);
    const forms = (await objects.forms([oids[3]!]))[0]!;
    expect(forms.delta).toBeUndefined();
    expect(forms.whole).toBeDefined();
    expect(Buffer.from((await objects.read(oids[3]!)).body).equals(Buffer.from(bodies[3]!))).toBe(true);
    await engine.close();
  });
});
