import { describe, expect, it } from 'vitest';
import { NO_PACKED, PackedBases } from '../../src/pack/packed-bases.js';
import { createDelta } from '../../src/pack/delta.js';
import { platform } from '../../src/platform/index.js';
import { utf8 } from '../../src/platform/bytes.js';
import type { ScratchFile } from '../../src/platform/types.js';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

const text = (n: number, seed: number) => utf8(Array.from({ length: n }, (_, i) => `line ${i} of version ${seed % 7 === 0 ? i : seed}\n`).join(''));
const MAX = 1 << 30;

/** A chain of versions: v0 whole, each next one a delta of the one before, added as the reader adds them (keyed 1000 + version). */
function chain(bases: PackedBases, length: number): { keys: number[]; bodies: Uint8Array[]; numbers: number[] } {
  const keys: number[] = [];
  const bodies: Uint8Array[] = [];
  const numbers: number[] = [];
  for (let v = 0; v < length; v++) {
    const body = text(200, v);
    const key = 1000 + v;
    const n =
      v === 0
        ? bases.add(key, platform().deflate(body), body.length, NO_PACKED, body.length)
        : (() => {
            const delta = createDelta(bodies[v - 1]!, body);
            return bases.add(key, platform().deflate(delta), delta.length, numbers[v - 1]!, body.length);
          })();
    keys.push(key);
    bodies.push(body);
    numbers.push(n);
  }
  return { keys, bodies, numbers };
}

/** A delta that copies all of a base of `baseLength` bytes (64 KiB per copy op), then inserts `tail` (< 128 bytes). */
function appendingDelta(baseLength: number, tail: Uint8Array): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => {
    for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    out.push(v);
  };
  varint(baseLength);
  varint(baseLength + tail.length);
  for (let at = 0; at < baseLength; at += 0x10000) {
    const size = Math.min(0x10000, baseLength - at);
    // Offset in four bytes, size in two (0x10000 is written as no size bytes at all).
    out.push(size === 0x10000 ? 0x8f : 0xbf, at & 255, (at >>> 8) & 255, (at >>> 16) & 255, at >>> 24);
    if (size !== 0x10000) out.push(size & 255, size >>> 8);
  }
  out.push(tail.length, ...tail);
  return Uint8Array.from(out);
}

describe('PackedBases', () => {
  it('rebuilds a body from its chain, starting from a body still held, and hands each one rebuilt to keep', () => {
    const bases = new PackedBases(1 << 20);
    const { keys, bodies, numbers } = chain(bases, 6);
    const kept: number[] = [];
    const none = () => undefined;
    expect(bases.rebuild(numbers[5]!, none, (key) => kept.push(key), MAX)).toEqual(bodies[5]);
    expect(kept).toEqual(keys); // from the whole entry up the chain
    const fromHeld: number[] = [];
    const held = (key: number) => (key === keys[3] ? bodies[3] : undefined);
    expect(bases.rebuild(numbers[5]!, held, (key) => fromHeld.push(key), MAX)).toEqual(bodies[5]);
    expect(fromHeld).toEqual([keys[4], keys[5]]);
  });

  it("builds every body of a chain in the caller's memory when given an allocator, and refuses an entry that inflates to another size", () => {
    const bases = new PackedBases(1 << 20);
    const { bodies, numbers } = chain(bases, 6);
    const given = new Set<ArrayBufferLike>();
    const alloc = (n: number) => {
      const b = new Uint8Array(n).fill(0xee); // old bytes never show through
      given.add(b.buffer);
      return b;
    };
    const kept: Uint8Array[] = [];
    const body = bases.rebuild(
      numbers[5]!,
      () => undefined,
      (_, b) => kept.push(b),
      MAX,
      alloc,
    );
    expect(body).toEqual(bodies[5]);
    expect(kept.map((b) => given.has(b.buffer))).toEqual([true, true, true, true, true, true]);
    expect(kept).toEqual(bodies);
    // An entry whose declared size is not what its stream inflates to.
    const liar = new PackedBases(1 << 20);
    const n = liar.add(7, platform().deflate(bodies[0]!), bodies[0]!.length + 5, NO_PACKED, bodies[0]!.length);
    expect(() =>
      liar.rebuild(
        n,
        () => undefined,
        () => {},
        MAX,
        alloc,
      ),
    ).toThrow(/inflated to/);
  });

  it('without a scratch file, forgets the oldest entries past its byte bound: a chain through one of them is not rebuilt', () => {
    const bases = new PackedBases(2000, undefined, null);
    const { numbers, bodies } = chain(bases, 40);
    const none = () => undefined;
    expect(bases.rebuild(numbers[39]!, none, () => {}, MAX)).toBeUndefined(); // its whole entry is gone
    expect(
      bases.rebuild(
        numbers[39]!,
        (key) => (key === 1038 ? bodies[38] : undefined),
        () => {},
        MAX,
      ),
    ).toEqual(bodies[39]);
    expect(bases.rebuild(NO_PACKED, none, () => {}, MAX)).toBeUndefined();
  });

  it('stops rebuilding once the bytes rebuilt pass twice the bytes resolved plus the floor', () => {
    const bases = new PackedBases(1 << 20, 0);
    const { numbers, bodies } = chain(bases, 3);
    const none = () => undefined;
    // Each rebuild of the last version rebuilds the whole chain: as many bytes as were resolved.
    let answers = 0;
    while (bases.rebuild(numbers[2]!, none, () => {}, MAX) !== undefined) {
      answers++;
      expect(answers).toBeLessThan(10);
    }
    expect(answers).toBe(2);
    // Spent for good: even a whole entry is no longer inflated again.
    expect(bases.rebuild(numbers[0]!, none, () => {}, MAX)).toBeUndefined();
    expect(bodies).toHaveLength(3);
  });

  it('writes slabs past its byte bound to a scratch file and rebuilds from it; closing closes the file', () => {
    // Whole entries of ~200 KB that hardly compress (five per 1 MiB slab), each followed by nine
    // small deltas: ~2 MB of entries over three slabs, past a bound of 256 KiB.
    const random = (n: number, seed: number) => {
      const b = new Uint8Array(n);
      let x = seed * 2654435761;
      for (let i = 0; i < n; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 24;
      return b;
    };
    const appended = (a: Uint8Array, b: Uint8Array) => {
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    };
    let file = new Uint8Array(0);
    const calls = { appends: 0, reads: 0, closed: 0, into: new Set<ArrayBufferLike>() };
    const scratch = (): ScratchFile => ({
      append(bytes) {
        calls.appends++;
        file = appended(file, bytes);
        return file.length - bytes.length;
      },
      read(position, length, into) {
        calls.reads++;
        // As the platform's does: into the caller's buffer when it gives one (a view of it).
        if (into === undefined) return file.slice(position, position + length);
        calls.into.add(into.buffer);
        into.set(file.subarray(position, position + length));
        return into.subarray(0, length);
      },
      close: () => void calls.closed++,
    });
    const bases = new PackedBases(256 * 1024, 1 << 30, scratch);
    const bodies: Uint8Array[] = [];
    const numbers: number[] = [];
    for (let v = 0; v < 100; v++) {
      // Every tenth a whole body, the others a delta of the one before (bytes appended).
      const body = v % 10 === 0 ? random(200_000, v) : appended(bodies[v - 1]!, random(50, v));
      const n =
        v % 10 === 0
          ? bases.add(v, platform().deflate(body), body.length, NO_PACKED, body.length)
          : (() => {
              const delta = appendingDelta(bodies[v - 1]!.length, body.subarray(bodies[v - 1]!.length));
              return bases.add(v, platform().deflate(delta), delta.length, numbers[v - 1]!, body.length);
            })();
      bodies.push(body);
      numbers.push(n);
      expect(bases.heldBytes).toBeLessThanOrEqual(256 * 1024 + (1 << 20)); // the bound, plus the slab being filled
    }
    expect(calls.appends).toBeGreaterThan(0);
    const none = () => undefined;
    expect(bases.rebuild(numbers[5]!, none, () => {}, MAX)).toEqual(bodies[5]); // written out long ago
    // The chain's six streams read back one after the other into one reused buffer.
    expect(calls.reads).toBe(6);
    expect(calls.into.size).toBe(1);
    expect(bases.rebuild(numbers[97]!, none, () => {}, MAX)).toEqual(bodies[97]); // still in memory
    bases.close();
    expect(calls.closed).toBe(1);
  });

  it("uses the platform's scratch file, which leaves nothing in the temp folder", () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('level-git-scratch-'));
    const file = platform().scratchFile!();
    const at = file.append(utf8('hello'));
    const at2 = file.append(utf8(' world'));
    expect([at, at2]).toEqual([0, 5]);
    expect(new TextDecoder().decode(file.read(3, 6))).toBe('lo wor');
    expect(() => file.read(8, 10)).toThrow();
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('level-git-scratch-'))).toEqual(before);
    file.close();
    expect(existsSync(tmpdir())).toBe(true);
  });
});
