import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePack, writePackBatches, writePackSync } from '../../src/pack/pack-writer.js';
import { encodePackEntry } from '../../src/pack/entry.js';
import { createDelta } from '../../src/pack/delta.js';
import { encodeRefDelta } from '../../src/object/packed.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { encodeTree } from '../../src/object/tree.js';
import { encodeCommit, encodeTag } from '../../src/object/commit.js';
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { concat, equal, toHex, utf8 } from '../../src/platform/bytes.js';
import { platform } from '../../src/platform/index.js';
import { asAsync, catFileBatch, git, gitText, initBare, packEntryTypes, pseudoRandom, tempDir } from './git-helpers.js';

interface Obj {
  oid: Oid;
  type: ObjectType;
  body: Uint8Array;
}

function obj(type: ObjectType, body: Uint8Array): Obj {
  return { oid: hashObject(type, body), type, body };
}

/** A small repository's worth of real objects built with the object codecs. */
function sampleObjects(): Obj[] {
  const text = obj('blob', utf8('hello\nworld\n'));
  const binary = obj('blob', pseudoRandom(200_000, 9));
  const empty = obj('blob', new Uint8Array(0));
  const sub = obj('tree', encodeTree([{ mode: '100644', name: 'empty', oid: empty.oid }]));
  const root = obj(
    'tree',
    encodeTree([
      { mode: '100644', name: 'hello.txt', oid: text.oid },
      { mode: '100755', name: 'run.bin', oid: binary.oid },
      { mode: '40000', name: 'sub', oid: sub.oid },
    ]),
  );
  const who = { name: 'A U Thor', email: 'author@example.com', timestamp: 1700000000, timezone: '+0100' };
  const c1 = obj('commit', encodeCommit({ tree: root.oid, parents: [], author: who, committer: who, message: 'first\n' }));
  const c2 = obj('commit', encodeCommit({ tree: sub.oid, parents: [c1.oid], author: who, committer: who, message: 'second\n\nbody\n' }));
  const tag = obj('tag', encodeTag({ object: c2.oid, type: 'commit', tag: 'v1.0', tagger: who, message: 'release\n' }));
  return [text, binary, empty, sub, root, c1, c2, tag];
}

async function collectChunks(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

/**
 * A chain base <- d1 <- d2 <- d3 of ref-deltas (`objs[0]` the base), an unrelated blob, and a
 * ref-delta against a base not in the pack (a thin pack's, which stays a ref-delta).
 */
function deltaChain() {
  const versions = [0, 1, 2, 3].map((v) => utf8(Array.from({ length: 300 }, (_, i) => `line ${i}${i === v * 50 ? ' changed' : ''}`).join('\n')));
  const objs = versions.map((b) => obj('blob', b));
  const hex = (o: Oid) => Uint8Array.from(Buffer.from(o, 'hex'));
  const deltas = [1, 2, 3].map((i) => encodeRefDelta(hex(objs[i - 1]!.oid), createDelta(versions[i - 1]!, versions[i]!)));
  const absent = utf8('absent base\n');
  const thin = encodeRefDelta(hex(hashObject('blob', absent)), createDelta(absent, utf8('absent base, edited\n')));
  return { versions, objs, deltas, other: obj('blob', utf8('unrelated\n')), thin };
}

describe('writePack', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it('writes packs that git index-pack --strict accepts, with identical objects', async () => {
    const objects = sampleObjects();
    const entries = objects.map((o) => encodePackEntry(o.type, o.body));
    const chunks = await collectChunks(writePack(entries.length, asAsync(entries), { chunkSize: 4096 }));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBe(4096);
    const pack = concat(chunks);
    expect(equal(pack, writePackSync(entries))).toBe(true);

    const bare = initBare(tmp.dir, 'writer.git');
    const out = gitText(bare, ['index-pack', '--strict', '--stdin'], pack);
    expect(out).toMatch(/^pack\s+[0-9a-f]{40}$/);
    expect(out.split(/\s+/)[1]).toBe(toHex(pack.subarray(pack.length - 20)));
    const got = catFileBatch(
      bare,
      objects.map((o) => o.oid),
    );
    for (const o of objects) {
      expect(got.get(o.oid)?.type).toBe(o.type);
      expect(equal(got.get(o.oid)!.body, o.body)).toBe(true);
    }
    expect(gitText(bare, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('accepts entries given in parts, from a sync iterable, with any chunk size', async () => {
    const objects = sampleObjects();
    const parts = objects.map((o) => {
      const e = encodePackEntry(o.type, o.body);
      return [e.subarray(0, 1), e.subarray(1)];
    });
    const whole = writePackSync(objects.map((o) => encodePackEntry(o.type, o.body)));
    for (const size of [5, 7, 100, 65536, 1 << 20]) {
      const chunks = await collectChunks(writePack(parts.length, parts, { chunkSize: size }));
      expect(equal(concat(chunks), whole)).toBe(true);
      for (const c of chunks.slice(0, -1)) expect(c.length).toBeLessThanOrEqual(size);
    }
  });

  it('writes an empty pack git accepts', async () => {
    const pack = concat(await collectChunks(writePack(0, [])));
    expect(pack.length).toBe(32);
    const bare = initBare(tmp.dir, 'empty.git');
    git(bare, ['index-pack', '--strict', '--stdin'], pack);
  });

  it('throws when the entries do not match the declared count', async () => {
    const e = encodePackEntry('blob', utf8('x'));
    await expect(collectChunks(writePack(2, [e]))).rejects.toThrow(InvalidArgumentError);
    await expect(collectChunks(writePack(1, asAsync([e, e])))).rejects.toThrow(InvalidArgumentError);
    await expect(collectChunks(writePack(-1, []))).rejects.toThrow(InvalidArgumentError);
  });

  it('does not reuse a chunk after yielding it', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => encodePackEntry('blob', utf8(`blob number ${i}`)));
    const chunks: Uint8Array[] = [];
    const snapshot: Uint8Array[] = [];
    for await (const c of writePack(entries.length, entries, { chunkSize: 64 })) {
      chunks.push(c);
      snapshot.push(c.slice());
    }
    chunks.forEach((c, i) => expect(equal(c, snapshot[i]!)).toBe(true));
    const pack = concat(chunks);
    expect(equal(platform().sha1(pack.subarray(0, pack.length - 20)), pack.subarray(pack.length - 20))).toBe(true);
  });

  it('writePackBatches: one chunk per batch between header and trailer, the same bytes as writePackSync', async () => {
    const entries = sampleObjects().map((o) => encodePackEntry(o.type, o.body));
    const batches = [entries.slice(0, 3), [], entries.slice(3, 4), entries.slice(4)].map((b) => ({ entries: b }));
    const chunks = await collectChunks(writePackBatches(entries.length, asAsync(batches)));
    expect(chunks.length).toBe(2 + 3);
    expect(chunks[0]!.length).toBe(12);
    expect(chunks[chunks.length - 1]!.length).toBe(20);
    expect(equal(concat(chunks), writePackSync(entries))).toBe(true);
    expect(equal(concat(await collectChunks(writePackBatches(entries.length, batches))), writePackSync(entries))).toBe(true);
    await expect(collectChunks(writePackBatches(entries.length + 1, batches))).rejects.toThrow(InvalidArgumentError);
    await expect(collectChunks(writePackBatches(entries.length - 1, batches))).rejects.toThrow(InvalidArgumentError);
    expect(concat(await collectChunks(writePackBatches(0, []))).length).toBe(32);
  });

  it('writePackBatches with ofsBases: ref-deltas against earlier entries become OFS_DELTA, git index-pack --strict accepts them', async () => {
    const { versions, objs, deltas, other, thin } = deltaChain();
    const batches = [
      { entries: [encodePackEntry('blob', other.body), encodePackEntry('blob', versions[0]!)], oids: [other.oid, objs[0]!.oid] },
      { entries: [deltas[0]!, deltas[1]!], oids: [objs[1]!.oid, objs[2]!.oid] },
      { entries: [deltas[2]!], oids: [objs[3]!.oid] },
    ];
    const bases = new Set(objs.slice(0, 3).map((o) => o.oid));
    const pack = concat(await collectChunks(writePackBatches(5, batches, { ofsBases: bases })));
    expect(packEntryTypes(pack)).toEqual([3, 3, 6, 6, 6]);
    const bare = initBare(tmp.dir, 'ofs.git');
    gitText(bare, ['index-pack', '--strict', '--stdin'], pack);
    const got = catFileBatch(
      bare,
      objs.map((o) => o.oid),
    );
    for (const o of objs) expect(equal(got.get(o.oid)!.body, o.body)).toBe(true);
    expect((await readPackBytes(pack)).map((o) => o.oid).sort()).toEqual([other.oid, ...objs.map((o) => o.oid)].sort());
    // Without ofsBases the same batches go out unchanged: ref-deltas.
    expect(packEntryTypes(concat(await collectChunks(writePackBatches(5, batches))))).toEqual([3, 3, 7, 7, 7]);
    const withThin = concat(await collectChunks(writePackBatches(6, [...batches, { entries: [thin], oids: ['f'.repeat(40) as Oid] }], { ofsBases: bases })));
    expect(packEntryTypes(withThin)).toEqual([3, 3, 6, 6, 6, 7]);
    await expect(collectChunks(writePackBatches(2, [{ entries: batches[0]!.entries }], { ofsBases: bases }))).rejects.toThrow(/id of every entry/);
  });

  it('writePackBatches with ofsPlan (bases by plan position): the same ofs-deltas, byte for byte, without ids', async () => {
    const { versions, objs, deltas, other, thin } = deltaChain();
    // Plan positions: 0 other, 1 base, 2..4 the chain, 5 the thin delta (-2: its base is not in the pack).
    const plan = Int32Array.from([-1, -1, 1, 2, 3, -2]);
    const batches = [
      { entries: [encodePackEntry('blob', other.body), encodePackEntry('blob', versions[0]!)], oids: [other.oid, objs[0]!.oid], positions: [0, 1] },
      { entries: [deltas[0]!, deltas[1]!], oids: [objs[1]!.oid, objs[2]!.oid], positions: [2, 3] },
      { entries: [deltas[2]!, thin], oids: [objs[3]!.oid, 'f'.repeat(40) as Oid], positions: [4, 5] },
    ];
    const byPlan = concat(await collectChunks(writePackBatches(6, batches, { ofsPlan: plan })));
    expect(packEntryTypes(byPlan)).toEqual([3, 3, 6, 6, 6, 7]);
    const bases = new Set(objs.slice(0, 3).map((o) => o.oid));
    expect(equal(byPlan, concat(await collectChunks(writePackBatches(6, batches, { ofsBases: bases }))))).toBe(true);
    const bare = initBare(tmp.dir, 'ofs-plan.git');
    gitText(
      bare,
      ['index-pack', '--strict', '--stdin'],
      concat(
        await collectChunks(writePackBatches(5, batches.slice(0, 2).concat([{ ...batches[2]!, entries: [deltas[2]!], positions: [4] }]), { ofsPlan: plan })),
      ),
    );
    const got = catFileBatch(
      bare,
      objs.map((o) => o.oid),
    );
    for (const o of objs) expect(equal(got.get(o.oid)!.body, o.body)).toBe(true);
    await expect(collectChunks(writePackBatches(2, [{ entries: batches[0]!.entries }], { ofsPlan: plan }))).rejects.toThrow(/position of every entry/);
  });
});
