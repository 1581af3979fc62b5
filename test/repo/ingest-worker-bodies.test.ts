/**
 * Ingest into an empty repository with the pack read in a worker thread: the bodies of blobs stay
 * in the worker (pack/worker-protocol.ts `dropBlobBodies`), so whatever still needs a blob's body
 * must get it another way: a blob named .gitmodules, before or after its tree, is checked from
 * what was quarantined; a blob delta past the stored chain limit is stored whole from the entry
 * the worker deflated for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { concat, utf8 } from '../../src/platform/bytes.js';
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';
import { encodePacked } from '../../src/object/packed.js';
import { FsckError } from '../../src/errors.js';
import { internalsOf } from '../../src/repo/internals.js';
import { MAX_STORED_CHAIN } from '../../src/repo/ingest.js';
import { copyOp, encodePackEntry, noise, ofsDelta, varint, writePackSync } from '../pack/crafted-packs.js';

let engine: Engine;
let repo: Repository;

beforeEach(async () => {
  engine = await openEngine({ db: new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }) as never });
  repo = await engine.createRepo('empty');
});
afterEach(async () => {
  await engine.close();
});

const entry = (type: ObjectType, body: Uint8Array) => ({ oid: hashObject(type, body), bytes: encodePacked(type, body) });
const inWorker = (pack: Uint8Array) => repo.indexPack([pack], { worker: 'worker' });

describe('ingest into an empty repository, the pack read in a worker', () => {
  it('checks a .gitmodules blob that comes before or after its tree, and stores nothing', async () => {
    const bad = entry('blob', utf8('[submodule "../../.git/x"]\n\tpath = x\n\turl = https://e/x\n'));
    const tree = entry('tree', concat([utf8('100644 .gitmodules\0'), Buffer.from(bad.oid, 'hex')]));
    for (const order of [
      [bad, tree],
      [tree, bad],
    ]) {
      const err = await inWorker(writePackSync(order.map((o) => o.bytes))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FsckError);
      expect((err as FsckError).details).toMatchObject({ id: 'gitmodulesName', oid: bad.oid });
      expect(await internalsOf(repo).objects.has([bad.oid, tree.oid])).toEqual([false, false]);
    }
  });

  it(`stores a blob delta chain longer than ${MAX_STORED_CHAIN}: every version readable, no stored chain past the limit`, async () => {
    const versions = [noise(4000, 3)];
    const entries = [encodePackEntry('blob', versions[0]!)];
    for (let i = 1; i <= MAX_STORED_CHAIN + 15; i++) {
      const prev = versions[i - 1]!;
      const line = utf8(`line ${i}\n`);
      versions.push(concat([prev, line]));
      const delta = Uint8Array.from([...varint(prev.length), ...varint(prev.length + line.length), ...copyOp(0, prev.length), line.length, ...line]);
      entries.push(ofsDelta(entries[i - 1]!.length, delta));
    }
    const r = await inWorker(writePackSync(entries));
    const oids = versions.map((v) => hashObject('blob', v));
    expect(r.oids).toEqual(oids);
    const depths = new Map<Oid, number>();
    const read = await internalsOf(repo).objects.readMany(oids, { depths });
    read.forEach((o, i) => expect(Buffer.from(o!.body).equals(Buffer.from(versions[i]!))).toBe(true));
    expect(Math.max(...oids.map((o) => depths.get(o) ?? 0))).toBeLessThanOrEqual(MAX_STORED_CHAIN);
    expect(Math.max(...oids.map((o) => depths.get(o) ?? 0))).toBeGreaterThan(1);
  });
});
