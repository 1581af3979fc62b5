/**
 * The key schema (src/storage/keys.ts): the order of encoded keys is the order of their parts,
 * a prefix range holds exactly the keys with that prefix, and every key decodes back to its parts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/platform/bytes.js';
import { deltaKey, nameKey, objectKey, prefixRange, REPO_TAGS, repoKey, repoPrefix, repoStringKey, TAG, type KeyRange } from '../../src/storage/keys.js';

const PROPS = { seed: 8_011, numRuns: 300 } as const;

/** Byte-wise order, as every abstract-level store sorts binary keys. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
const sign = (n: number) => Math.sign(n);
const startsWith = (k: Uint8Array, p: Uint8Array) => k.length >= p.length && p.every((b, i) => k[i] === b);
const inRange = (k: Uint8Array, r: KeyRange) => compareBytes(k, r.gte) >= 0 && (r.lt === undefined || compareBytes(k, r.lt) < 0);

const tag = fc.constantFrom(...Object.values(TAG));
const repoId = fc.oneof(fc.constantFrom(0, 1, 255, 256, 0xffff, 0x10000, 0xffffff, 0x1000000, 0xfffffffe, 0xffffffff), fc.nat({ max: 0xffffffff }));
const suffix = fc.uint8Array({ maxLength: 24 });
const oid = fc.uint8Array({ minLength: 20, maxLength: 20 });
// Well-formed strings (the ref-name and repository-name rules refuse lone surrogates).
const text = fc.string({ unit: 'grapheme', maxLength: 12 });

describe('key order is the order of the parts', () => {
  it('repoKey: (tag, id, suffix) compare as tuples', () => {
    fc.assert(
      fc.property(tag, repoId, suffix, tag, repoId, suffix, (t1, i1, s1, t2, i2, s2) => {
        const expected = t1 !== t2 ? t1 - t2 : i1 !== i2 ? i1 - i2 : compareBytes(s1, s2);
        expect(sign(compareBytes(repoKey(t1, i1, s1), repoKey(t2, i2, s2)))).toBe(sign(expected));
      }),
      PROPS,
    );
  });

  it('repoStringKey: strings compare by code point, as UTF-8 bytes do', () => {
    const byCodePoint = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0)!);
      const y = [...b].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    fc.assert(
      fc.property(repoId, text, text, (id, a, b) => {
        expect(sign(compareBytes(repoStringKey(TAG.ref, id, a), repoStringKey(TAG.ref, id, b)))).toBe(sign(byCodePoint(a, b)));
      }),
      PROPS,
    );
  });

  it('every repository-scoped key of one repository sorts apart from other repositories', () => {
    fc.assert(
      fc.property(tag, repoId, repoId, suffix, (t, a, b, s) => {
        fc.pre(a !== b);
        const r = prefixRange(repoPrefix(t, a));
        expect(inRange(repoKey(t, a, s), r)).toBe(true);
        expect(inRange(repoKey(t, b, s), r)).toBe(false);
      }),
      PROPS,
    );
  });
});

describe('prefixRange', () => {
  // Keys of the schema start with a tag byte (ASCII), so no prefix is all 0xff.
  const prefix = fc.tuple(tag, fc.uint8Array({ maxLength: 8 })).map(([t, rest]) => Uint8Array.of(t, ...rest));
  const keyNear = (p: Uint8Array) =>
    fc.oneof(
      fc.uint8Array({ maxLength: 12 }).map((s) => Uint8Array.of(...p, ...s)), // has the prefix
      fc.tuple(fc.nat({ max: p.length }), fc.uint8Array({ maxLength: 12 })).map(([n, s]) => Uint8Array.of(...p.subarray(0, n), ...s)), // shares part of it
      fc.constant(p.subarray(0, p.length - 1)),
    );

  it('holds exactly the keys that start with the prefix', () => {
    fc.assert(
      fc.property(
        prefix.chain((p) => fc.tuple(fc.constant(p), keyNear(p))),
        ([p, k]) => {
          expect(inRange(k, prefixRange(p)), `${p} ${k}`).toBe(startsWith(k, p));
        },
      ),
      { ...PROPS, numRuns: 1000 },
    );
  });

  it('handles 0xff bytes at the end of the prefix by carrying', () => {
    const p = Uint8Array.of(TAG.object, 0, 0, 0xff, 0xff);
    const r = prefixRange(p);
    expect([...r.lt!]).toEqual([TAG.object, 0, 1]);
    expect(inRange(Uint8Array.of(...p, 0xff, 0xff, 0xff), r)).toBe(true);
    expect(inRange(Uint8Array.of(TAG.object, 0, 1), r)).toBe(false);
  });

  // Never reached by the schema (tags are ASCII), but the helper's contract is any prefix: an
  // all-0xff prefix has no upper bound (it once had a fixed 6-byte one, which longer keys exceeded).
  it('an all-0xff prefix holds every key that starts with it', () => {
    const p = Uint8Array.of(0xff);
    expect(inRange(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), prefixRange(p))).toBe(true);
  });
});

describe('keys decode back to their parts', () => {
  it('repoKey / repoPrefix: tag byte, big-endian id, suffix', () => {
    fc.assert(
      fc.property(tag, repoId, suffix, (t, id, s) => {
        const k = repoKey(t, id, s);
        expect(k[0]).toBe(t);
        expect(new DataView(k.buffer, k.byteOffset).getUint32(1)).toBe(id);
        expect([...k.subarray(5)]).toEqual([...s]);
        expect([...repoPrefix(t, id)]).toEqual([...k.subarray(0, 5)]);
      }),
      PROPS,
    );
  });

  it('repoStringKey and nameKey round-trip their strings', () => {
    fc.assert(
      fc.property(repoId, text, (id, s) => {
        expect(fromUtf8(repoStringKey(TAG.ref, id, s), 5)).toBe(s);
        expect(fromUtf8(repoStringKey(TAG.ephemeral, id, s), 5)).toBe(s);
        const n = nameKey(s);
        expect(n[0]).toBe(TAG.name);
        expect(fromUtf8(n, 1)).toBe(s);
      }),
      PROPS,
    );
  });

  it('objectKey and deltaKey append the 20 id bytes under their own tags', () => {
    fc.assert(
      fc.property(repoId, oid, (id, o) => {
        expect([...objectKey(id, o)]).toEqual([...repoKey(TAG.object, id, o)]);
        expect([...deltaKey(id, o)]).toEqual([...repoKey(TAG.delta, id, o)]);
        expect(objectKey(id, o).length).toBe(25);
      }),
      PROPS,
    );
  });

  it('tags are distinct and every per-repository tag is listed for deletion', () => {
    const tags = Object.values(TAG);
    expect(new Set(tags).size).toBe(tags.length);
    for (const t of [TAG.repo, TAG.object, TAG.delta, TAG.ref, TAG.ephemeral, TAG.quarantine, TAG.idempotency]) expect(REPO_TAGS).toContain(t);
    expect(REPO_TAGS).not.toContain(TAG.name);
    expect(REPO_TAGS).not.toContain(TAG.version);
    expect(REPO_TAGS).not.toContain(TAG.nextId);
    expect(utf8('V')[0]).toBe(TAG.version);
  });
});
