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
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';

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

describe('object store layouts', () => {
  it('allOids yields every object once and deltaLinks every delta with its base', async () => {
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
    for await (const l of objects.deltaLinks()) links.push(l);
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
});
