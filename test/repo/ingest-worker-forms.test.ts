/**
 * A pack read in a worker thread (batches crossing threads as one table and two buffers, whole
 * entries of deltas deflated there) stores exactly what the same pack read inline stores:
 * every key and value of the database alike, so the same ids, types and stored forms (deltas
 * kept as they arrived, chains cut at 50, deltas larger than their whole entry stored whole),
 * over several batches, with ofs-delta chains and ref-deltas sent before their base. A corrupt
 * entry after the first batches fails the whole ingest on either path with nothing stored.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { CorruptPackError } from '../../src/errors.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { createDelta } from '../../src/pack/delta.js';
import { encodeEntryHeader } from '../../src/pack/entry.js';
import { concat } from '../../src/platform/bytes.js';
import { encodePackEntry, noise, ofsDelta, refDelta, writePackSync } from '../pack/crafted-packs.js';
import { chunks } from '../pack/git-helpers.js';

const enc = new TextEncoder();
type Mode = 'inline' | 'worker';

/** A blob of `n` numbered lines with line `edited` changed. */
function version(n: number, edited: number, tag: string): Uint8Array {
  return enc.encode(Array.from({ length: n }, (_, i) => (i === edited ? `line ${i} ${tag} edited\n` : `line ${i} of ${tag}\n`)).join(''));
}

/**
 * More than one batch (4,096 objects) of small blobs, then: an ofs-delta chain of 60 (stored
 * chains are cut at 50), ref-deltas sent before their bases, and small deltas whose whole entry
 * deflates smaller than the delta (stored whole).
 */
function mixedPack(corruptAt?: number): Uint8Array {
  const entries: Uint8Array[] = [];
  let offset = 12;
  const add = (e: Uint8Array): number => {
    const at = offset;
    entries.push(e);
    offset += e.length;
    return at;
  };
  for (let i = 0; i < 4500; i++) {
    if (i === corruptAt) {
      // A declared size of 100 over a zlib stream whose checksum is wrong.
      const z = encodePackEntry('blob', enc.encode('x'.repeat(100)));
      z[z.length - 1] = z[z.length - 1]! ^ 0xff;
      add(z);
      continue;
    }
    add(encodePackEntry('blob', enc.encode(`small blob ${i}\n`)));
  }
  // A chain: each version an ofs-delta on the one before.
  let prev = version(300, 0, 'chain');
  let prevAt = add(encodePackEntry('blob', prev));
  for (let k = 1; k <= 60; k++) {
    const next = version(300, k, 'chain');
    prevAt = add(ofsDelta(offset - prevAt, createDelta(prev, next)));
    prev = next;
  }
  // Ref-deltas before their bases.
  for (let k = 0; k < 20; k++) {
    const base = version(120, k, `late ${k}`);
    add(refDelta(hashObject('blob', base), createDelta(base, version(120, k + 1, `late ${k}`))));
    add(encodePackEntry('blob', base));
  }
  // Deltas of a short, very compressible body on an unrelated base: the whole entry is smaller.
  for (let k = 0; k < 20; k++) {
    const base = noise(200, k + 1);
    const body = enc.encode('a'.repeat(90 + k));
    const at = add(encodePackEntry('blob', base));
    add(ofsDelta(offset - at, createDelta(base, body)));
  }
  return writePackSync(entries);
}

/** Every key and value of a database, hex-encoded, in key order. */
async function dump(db: MemoryLevel<Uint8Array, Uint8Array>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterator()) out.push([Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]);
  return out;
}

async function ingest(pack: Uint8Array, mode: Mode) {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  const engine = await openEngine({ db: db as never, ingest: { worker: mode } });
  const repo = await engine.createRepo('forms');
  const before = await dump(db);
  try {
    const result = await repo.indexPack(chunks(pack, 7_001)).then(
      (r) => r,
      (err: unknown) => err as Error,
    );
    return { result, before, after: await dump(db) };
  } finally {
    await engine.close();
  }
}

describe('ingest in a worker thread', () => {
  it('stores exactly what the inline read stores: ids, types and stored forms', async () => {
    const pack = mixedPack();
    const inline = await ingest(pack, 'inline');
    const worker = await ingest(pack, 'worker');
    if (inline.result instanceof Error) throw inline.result;
    if (worker.result instanceof Error) throw worker.result;
    expect(worker.result.oids).toEqual(inline.result.oids);
    expect(worker.result.added).toBe(inline.result.added);
    expect(inline.result.oids.length).toBe(4500 + 61 + 40 + 40);
    // Everything but the repository's record (it holds its creation time).
    const stored = (d: [string, string][]) => d.filter(([k]) => !k.startsWith(Buffer.from('R').toString('hex')));
    expect(stored(worker.after).length).toBeGreaterThan(4600);
    expect(stored(worker.after)).toEqual(stored(inline.after));
    // The forms are the ones ingest chooses: some objects kept as deltas (`D`: type byte first),
    // the rest whole, among them the 51st of the chain and the deltas larger than their body.
    const whole = version(300, 51, 'chain');
    const cut = hashObject('blob', whole);
    expect(inline.result.oids).toContain(cut);
    const values = new Map(inline.after);
    const deltaValues = [...values.values()].filter((v) => v.startsWith('03') && v.length < 600);
    expect(deltaValues.length).toBeGreaterThan(50);
    const small = hashObject('blob', enc.encode('a'.repeat(90)));
    const entry = Buffer.from(encodeEntryHeader(3, 90)).toString('hex');
    expect([...values.values()].some((v) => v.startsWith(entry))).toBe(true);
    expect(inline.result.oids as Oid[]).toContain(small);
  }, 120_000);

  it('fails the whole ingest on a corrupt entry after the first batch, on either path, with nothing stored', async () => {
    const pack = mixedPack(4300);
    for (const mode of ['inline', 'worker'] as const) {
      const { result, before, after } = await ingest(pack, mode);
      expect(result).toBeInstanceOf(CorruptPackError);
      expect(after).toEqual(before);
    }
  }, 120_000);

  it('fails on an unresolvable ref-delta on either path, with nothing stored', async () => {
    const good = mixedPack();
    const missing = refDelta(hashObject('blob', enc.encode('never sent')), createDelta(enc.encode('never sent'), enc.encode('x')));
    // The same objects plus a ref-delta on a base the pack never carries.
    const body = good.subarray(12, good.length - 20);
    const count = new DataView(good.buffer, good.byteOffset).getUint32(8) + 1;
    const header = new Uint8Array(12);
    header.set(good.subarray(0, 8));
    new DataView(header.buffer).setUint32(8, count);
    const pack = writeRaw(concat([header, body, missing]));
    for (const mode of ['inline', 'worker'] as const) {
      const { result, before, after } = await ingest(pack, mode);
      expect(result).toBeInstanceOf(CorruptPackError);
      expect(after).toEqual(before);
    }
  }, 120_000);
});

/** Appends the trailing SHA-1 to a pack's header and entries. */
function writeRaw(headAndEntries: Uint8Array): Uint8Array {
  const sum = new Uint8Array(createHash('sha1').update(headAndEntries).digest());
  return concat([headAndEntries, sum]);
}
