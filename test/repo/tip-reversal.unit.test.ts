/**
 * After a tip is materialized, an older version stored whole whose tip version arrived as a
 * delta of it becomes a delta of the tip (repo/materialize.ts `reverseTipDeltas`): one whole
 * entry and one delta per pair instead of two whole entries. Chains stay within 50, and deltas
 * of the previous layout (no type byte) are left as they are. Every object reads back, and the
 * bytes dropped are reported to the compactor per range (storage/compaction.ts compacts a range
 * once they reach a share of it). A pool with reach records (repo/chain-reach.ts) is not scanned,
 * and each X takes over its B's reach plus one (records are kept from a reach of 8 on: none
 * means less).
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { type Oid, hashObject, oidToBytes } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta, decodeStoredDelta } from '../../src/object/packed.js';
import { encodeTree, compareEntries, type TreeEntry } from '../../src/object/tree.js';
import { encodeCommit } from '../../src/object/commit.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey, reachKey } from '../../src/storage/keys.js';
import { encodeReach } from '../../src/repo/chain-reach.js';
import { utf8 } from '../../src/platform/bytes.js';
import type { KvOp } from '../../src/storage/kv.js';

const who = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };

function text(i: number, extra: number): Uint8Array {
  let s = '';
  for (let l = 0; l < 60; l++) s += `file ${i} line ${l}: ${'x'.repeat(20 + ((i * 7 + l) % 13))}\n`;
  for (let l = 0; l < extra; l++) s += `added ${l}\n`;
  return utf8(s);
}

/** Puts of objects stored whole or as a delta of a base, queued on `ops`; each returns the id. */
function writers(pool: number, ops: KvOp[]) {
  return {
    whole(body: Uint8Array, type: 'blob' | 'tree' | 'commit' = 'blob'): Oid {
      const oid = hashObject(type, body);
      ops.push({ type: 'put', key: objectKey(pool, oidToBytes(oid)), value: encodePacked(type, body) });
      return oid;
    },
    delta(body: Uint8Array, base: Oid, baseBody: Uint8Array): Oid {
      const oid = hashObject('blob', body);
      const entry = encodeRefDelta(oidToBytes(base), createDelta(baseBody, body));
      ops.push({ type: 'put', key: deltaKey(pool, oidToBytes(oid)), value: encodeStoredDelta('blob', body.length, entry) });
      return oid;
    },
  };
}

describe('reverseTipDeltas', () => {
  it('turns older whole versions into deltas of the tip, keeps chains within 50 and old-layout deltas as they are', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const pool = objects.repoId;
    const ops: KvOp[] = [];
    const { whole, delta } = writers(pool, ops);
    const entries: TreeEntry[] = [];
    const pairs: { x: Oid; b: Oid; xBody: Uint8Array; bBody: Uint8Array }[] = [];
    for (let i = 0; i < 80; i++) {
      const bBody = text(i, 0);
      const xBody = text(i, 3);
      const b = whole(bBody);
      const x = delta(xBody, b, bBody);
      pairs.push({ x, b, xBody, bBody });
      entries.push({ mode: '100644', name: `f${i}.txt`, oid: x });
    }
    // Pair 0's old version ends a chain of 50 stored deltas: reversing it would make 51.
    let prev = pairs[0]!.bBody;
    let prevOid = pairs[0]!.b;
    for (let k = 1; k <= 50; k++) {
      const body = text(0, -k + 100);
      prevOid = delta(body, prevOid, prev);
      prev = body;
    }
    // An old-layout pair: the tip version whole, its delta beside without a type byte.
    const zBody = text(500, 0);
    const yBody = text(500, 2);
    const z = whole(zBody);
    const y = whole(yBody);
    ops.push({ type: 'put', key: deltaKey(pool, oidToBytes(y)), value: encodeRefDelta(oidToBytes(z), createDelta(zBody, yBody)) });
    entries.push({ mode: '100644', name: 'old-layout.txt', oid: y });
    const tree = whole(encodeTree(entries.sort(compareEntries)), 'tree');
    const commit = whole(encodeCommit({ tree, parents: [], author: who, committer: who, message: 'tip\n' }), 'commit');
    await objects.kv.batch(ops);

    const dropped = vi.spyOn(objects.kv.compactor, 'dropped');
    await internalsOf(repo).warmClonePack(commit);

    const has = async (key: Uint8Array) => (await objects.kv.get(key)) !== undefined;
    for (const [i, p] of pairs.entries()) {
      const [x, b] = await objects.readMany([p.x, p.b]);
      expect(Buffer.from(x!.body).equals(Buffer.from(p.xBody))).toBe(true);
      expect(Buffer.from(b!.body).equals(Buffer.from(p.bBody))).toBe(true);
      expect(await has(objectKey(pool, oidToBytes(p.x)))).toBe(true);
      if (i === 0) {
        // Left alone: its chain is already 50 long.
        expect(await has(objectKey(pool, oidToBytes(p.b)))).toBe(true);
        expect(await has(deltaKey(pool, oidToBytes(p.x)))).toBe(true);
        continue;
      }
      expect(await has(objectKey(pool, oidToBytes(p.b)))).toBe(false);
      expect(await has(deltaKey(pool, oidToBytes(p.x)))).toBe(false);
      const d = decodeStoredDelta((await objects.kv.get(deltaKey(pool, oidToBytes(p.b))))!);
      expect(d.base).toBe(p.x);
      expect(d.type).toBe('blob');
    }
    // The chain's far end still reads.
    expect(Buffer.from((await objects.readMaybe(prevOid))!.body).equals(Buffer.from(prev))).toBe(true);
    // The old layout is untouched.
    expect(await has(objectKey(pool, oidToBytes(z)))).toBe(true);
    expect(await has(deltaKey(pool, oidToBytes(y)))).toBe(true);
    // Dropped: the reversed pairs' whole entries (O) and tip deltas (D), each range its own bytes.
    const putOf = (key: Uint8Array) => ops.find((o) => o.type === 'put' && Buffer.from(o.key).equals(Buffer.from(key)))!;
    const valueBytes = (key: Uint8Array) => (putOf(key) as { value: Uint8Array }).value.length;
    const reversed = pairs.slice(1);
    const byRange = new Map(dropped.mock.calls.map(([key, bytes]) => [key[0], bytes]));
    expect(byRange.get(objectKey(pool, new Uint8Array(20))[0])).toBe(reversed.reduce((n, p) => n + valueBytes(objectKey(pool, oidToBytes(p.b))), 0));
    expect(byRange.get(deltaKey(pool, new Uint8Array(20))[0])).toBe(reversed.reduce((n, p) => n + valueBytes(deltaKey(pool, oidToBytes(p.x))), 0));
    // A pool of the previous layout had no reach records: the pass wrote them, and the marker.
    // Records from 8 on only: a tip version without one (its own chains shorter) takes the least a record holds.
    const record = async (oid: Oid) => (await objects.kv.get(reachKey(pool, oidToBytes(oid))))?.[0];
    expect(await objects.kv.get(reachKey(pool))).toBeDefined();
    expect(await record(pairs[0]!.b)).toBe(50);
    for (const p of reversed) expect([await record(p.x), await record(p.b)]).toEqual([8, undefined]);
    await engine.close();
  });

  it("with reach records, reads one record per pair, no pass over the pool, and moves the old version's reach onto the tip's", async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('r');
    const objects = internalsOf(repo).objects;
    const pool = objects.repoId;
    const ops: KvOp[] = [{ type: 'put', key: reachKey(pool), value: Uint8Array.of(1) }];
    const { whole, delta } = writers(pool, ops);
    const recorded = (oid: Oid, n: number) => ops.push({ type: 'put', key: reachKey(pool, oidToBytes(oid)), value: encodeReach(n) });
    // Seventy files changed by a push (reversing waits for 64 pairs).
    const pairs: { x: Oid; b: Oid; xBody: Uint8Array; bBody: Uint8Array }[] = [];
    for (let i = 0; i < 70; i++) {
      const bBody = text(i, 0);
      const xBody = text(i, 3);
      const b = whole(bBody);
      pairs.push({ x: delta(xBody, b, bBody), b, xBody, bBody });
    }
    recorded(pairs[0]!.b, 50); // chains of 50 end at it: left alone
    recorded(pairs[1]!.b, 20);
    recorded(pairs[1]!.x, 10); // below what it takes over
    const entries: TreeEntry[] = pairs.map((p, i) => ({ mode: '100644', name: `f${i}.txt`, oid: p.x }));
    const tree = whole(encodeTree(entries.sort(compareEntries)), 'tree');
    const commit = whole(encodeCommit({ tree, parents: [], author: who, committer: who, message: 'tip\n' }), 'commit');
    await objects.kv.batch(ops);

    const ranges = vi.spyOn(objects.kv, 'entries');
    await internalsOf(repo).warmClonePack(commit);

    // No pass over the pool's deltas.
    expect(ranges.mock.calls.filter(([range]) => range.gte[0] === deltaKey(pool, new Uint8Array(20))[0])).toEqual([]);
    const has = async (key: Uint8Array) => (await objects.kv.get(key)) !== undefined;
    const record = async (oid: Oid) => (await objects.kv.get(reachKey(pool, oidToBytes(oid))))?.[0];
    for (const p of pairs) {
      const [x, b] = await objects.readMany([p.x, p.b]);
      expect(Buffer.from(x!.body).equals(Buffer.from(p.xBody))).toBe(true);
      expect(Buffer.from(b!.body).equals(Buffer.from(p.bBody))).toBe(true);
    }
    expect(await has(objectKey(pool, oidToBytes(pairs[0]!.b)))).toBe(true);
    expect(await has(deltaKey(pool, oidToBytes(pairs[0]!.x)))).toBe(true);
    expect(await record(pairs[0]!.b)).toBe(50);
    // Without a record, B's chains are shorter than 8: X's record says 8.
    for (const [p, after] of [[pairs[1]!, 21] as const, ...pairs.slice(2).map((p) => [p, 8] as const)]) {
      expect(await has(objectKey(pool, oidToBytes(p.b)))).toBe(false);
      expect(decodeStoredDelta((await objects.kv.get(deltaKey(pool, oidToBytes(p.b))))!).base).toBe(p.x);
      expect([await record(p.x), await record(p.b)]).toEqual([after, undefined]);
    }
    await engine.close();
  });
});
