import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeEntryHeader,
  decodeOfsOffset,
  encodeEntryHeader,
  encodeOfsOffset,
  encodePackEntry,
  isRefDeltaEntry,
  OBJ_OFS_DELTA,
  OBJ_REF_DELTA,
  refDeltaAsOfsDelta,
  storedDeltaEntry,
} from '../../src/pack/entry.js';
import { encodeRefDelta, encodeStoredDelta, refDeltaEntry } from '../../src/object/packed.js';
import { CorruptPackError } from '../../src/errors.js';
import { platform } from '../../src/platform/index.js';
import { utf8 } from '../../src/platform/bytes.js';

const validType = fc.constantFrom(1, 2, 3, 4, OBJ_OFS_DELTA, OBJ_REF_DELTA);

describe('entry header', () => {
  it('round-trips every type and size, and asks for more bytes when cut short', () => {
    fc.assert(
      fc.property(validType, fc.oneof(fc.nat(300), fc.nat(), fc.maxSafeNat()), (type, size) => {
        const h = encodeEntryHeader(type, size);
        expect(decodeEntryHeader(h, 0)).toEqual({ type, size, length: h.length });
        // Embedded at an offset and followed by other bytes.
        const padded = new Uint8Array(h.length + 5);
        padded.set(h, 2);
        expect(decodeEntryHeader(padded, 2)).toEqual({ type, size, length: h.length });
        for (let cut = 0; cut < h.length; cut++) expect(decodeEntryHeader(h.subarray(0, cut), 0)).toBeNull();
      }),
    );
  });

  it('matches the bytes git writes (type blob, sizes 15, 16, 100000)', () => {
    expect([...encodeEntryHeader(3, 15)]).toEqual([0x3f]);
    expect([...encodeEntryHeader(3, 16)]).toEqual([0xb0, 0x01]);
    // 100000 = 0b1_1000_0110_1010_0000 -> low 4 bits 0000, then 7-bit groups 0x0a, 0x0c... little-endian
    expect([...encodeEntryHeader(3, 100000)]).toEqual([0xb0, 0xea, 0x30]);
  });

  it('rejects types 0 and 5 and overlong sizes', () => {
    expect(() => decodeEntryHeader(Uint8Array.of(0x05), 0)).toThrow(CorruptPackError);
    expect(() => decodeEntryHeader(Uint8Array.of(0x50), 0)).toThrow(CorruptPackError);
    const overlong = new Uint8Array(12).fill(0xff);
    expect(() => decodeEntryHeader(overlong, 0)).toThrow(CorruptPackError);
    expect(() => encodeEntryHeader(5, 1)).toThrow(RangeError);
    expect(() => encodeEntryHeader(3, -1)).toThrow(RangeError);
  });

  it('reads a 10 GB declared size exactly', () => {
    const h = encodeEntryHeader(3, 10 * 2 ** 30);
    expect(decodeEntryHeader(h, 0)!.size).toBe(10 * 2 ** 30);
  });
});

describe('ofs-delta offset', () => {
  it('round-trips and asks for more bytes when cut short', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 2 ** 48 })), (d) => {
        const b = encodeOfsOffset(d);
        expect(decodeOfsOffset(b, 0)).toEqual({ distance: d, length: b.length });
        for (let cut = 0; cut < b.length; cut++) expect(decodeOfsOffset(b.subarray(0, cut), 0)).toBeNull();
      }),
    );
  });

  it("uses git's offset-plus-one encoding", () => {
    expect([...encodeOfsOffset(127)]).toEqual([0x7f]);
    expect([...encodeOfsOffset(128)]).toEqual([0x80, 0x00]);
    expect([...encodeOfsOffset(16511)]).toEqual([0xff, 0x7f]);
    expect([...encodeOfsOffset(16512)]).toEqual([0x80, 0x80, 0x00]);
  });

  it('rejects overlong offsets', () => {
    expect(() => decodeOfsOffset(new Uint8Array(12).fill(0x80), 0)).toThrow(CorruptPackError);
  });
});

describe('encodePackEntry', () => {
  it('is header + zlib(body)', () => {
    const body = utf8('hello pack\n');
    const e = encodePackEntry('blob', body);
    const h = decodeEntryHeader(e, 0)!;
    expect(h).toEqual({ type: 3, size: body.length, length: 1 });
    expect(platform().inflate(e.subarray(h.length))).toEqual(body);
  });
});

describe('refDeltaAsOfsDelta', () => {
  it('keeps the size header and the zlib stream, swaps the base id for the offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 1, max: 2 ** 40 }), (delta, distance) => {
        const base = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
        const ref = encodeRefDelta(base, delta);
        expect(isRefDeltaEntry(ref)).toBe(true);
        const ofs = refDeltaAsOfsDelta(ref, distance);
        expect(isRefDeltaEntry(ofs)).toBe(false);
        const h = decodeEntryHeader(ofs)!;
        expect(h).toMatchObject({ type: OBJ_OFS_DELTA, size: delta.length });
        const off = decodeOfsOffset(ofs, h.length)!;
        expect(off.distance).toBe(distance);
        expect(platform().inflate(ofs.subarray(h.length + off.length), delta.length)).toEqual(delta);
      }),
      { numRuns: 100 },
    );
    expect(() => refDeltaAsOfsDelta(encodePackEntry('blob', utf8('x')), 1)).toThrow(RangeError);
  });
});

describe('storedDeltaEntry', () => {
  it('builds the D value encodeStoredDelta makes of refDeltaEntry, with that entry as its tail', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('commit', 'tree', 'blob', 'tag'),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 32 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ maxLength: 300 }),
        (type, size, deltaSize, base, zlib) => {
          const typeNumber = { commit: 1, tree: 2, blob: 3, tag: 4 }[type];
          const entry = refDeltaEntry(deltaSize, base, zlib);
          const built = storedDeltaEntry(typeNumber, size, deltaSize, base, zlib);
          expect(built.stored).toEqual(encodeStoredDelta(type, size, entry));
          expect(built.entry).toEqual(entry);
          expect(built.entry.buffer).toBe(built.stored.buffer);
        },
      ),
    );
  });
});
