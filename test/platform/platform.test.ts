import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nodePlatform } from '../../src/platform/node.js';
import { portablePlatform } from '../../src/platform/portable.js';
import { OutputLimitError, platform, setPlatform, type Platform } from '../../src/platform/index.js';
import { getPlatform } from '../../src/index.js';
import { defaultPlatform } from '../../src/platform/default.js';
import { defaultPlatform as browserDefault } from '../../src/platform/default-browser.js';
import { concat, fromHex, grown, toHex, utf8 } from '../../src/platform/bytes.js';

for (const p of [nodePlatform, portablePlatform]) {
  describe(`platform ${p.name}`, () => {
    it('hashes like git', () => {
      // `printf 'blob 0\0' | sha1sum`
      expect(toHex(p.sha1(utf8('blob 0\0')))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
      const h = p.createSha1();
      h.update(utf8('blob '));
      h.update(utf8('0\0'));
      expect(toHex(h.digest())).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    });

    it('hashes a header and body in one call like the incremental hasher, small and large', () => {
      if (p.sha1Hex === undefined) return;
      expect(p.sha1Hex('blob 0\0', new Uint8Array(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
      // Sizes around the reused buffer's growth and the one-shot limit; a short body after a long one.
      for (const n of [1, 4000, 5000, 65536, 65537, 200_000, 3]) {
        const body = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
        const h = p.createSha1();
        h.update(utf8(`blob ${n}\0`));
        h.update(body);
        expect(p.sha1Hex(`blob ${n}\0`, body)).toBe(toHex(h.digest()));
      }
    });

    it('inflatePrefix reports the exact length of a stream followed by other bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5000 }), fc.uint8Array({ maxLength: 50 }), fc.integer({ min: 0, max: 9 }), (body, tail, level) => {
          const z = nodePlatform.deflate(body, level);
          const r = p.inflatePrefix(concat([z, tail]), body.length);
          expect(r).not.toBeNull();
          expect(r!.consumed).toBe(z.length);
          expect(toHex(r!.output)).toBe(toHex(body));
          // Portable deflate output must inflate the same under Node.
          expect(toHex(nodePlatform.inflate(p.deflate(body)))).toBe(toHex(body));
        }),
        { numRuns: 150 },
      );
    });

    it('inflatePrefix asks for more input when the stream is truncated', () => {
      const body = utf8('hello hello hello world '.repeat(200));
      const z = nodePlatform.deflate(body);
      for (const cut of [0, 1, 2, 5, z.length - 4, z.length - 1]) {
        expect(p.inflatePrefix(z.subarray(0, cut), body.length)).toBeNull();
      }
    });

    it('refuses output beyond the limit and corrupt data', () => {
      const z = nodePlatform.deflate(new Uint8Array(100_000));
      expect(() => p.inflatePrefix(z, 1000)).toThrow(OutputLimitError);
      expect(() => p.inflate(z, 1000)).toThrow(OutputLimitError);
      expect(p.inflate(z, 100_000).length).toBe(100_000);
      expect(() => p.inflatePrefix(fromHex('0102030405060708'), 10)).toThrow();
      const bad = nodePlatform.deflate(utf8('abcdef'));
      bad[bad.length - 1]! ^= 1;
      expect(() => p.inflatePrefix(bad, 10)).toThrow();
    });
  });
}

describe('platform choice', () => {
  // Unit files share their module cache: every test puts back the platform it found.
  const original = platform();
  afterEach(() => setPlatform(original));

  it('starts native on Node, portable in a browser bundle', () => {
    expect(original.name).toBe('node');
    expect(defaultPlatform().name).toBe('node');
    expect(browserDefault()).toBe(portablePlatform);
  });

  it("setPlatform takes 'portable', 'node' or an implementation", () => {
    setPlatform('portable');
    expect(getPlatform()).toBe(portablePlatform);
    setPlatform('node');
    expect(getPlatform().name).toBe('node');
    expect(toHex(getPlatform().sha1(utf8('blob 0\0')))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const custom: Platform = { ...nodePlatform, name: 'custom' };
    setPlatform(custom);
    expect(getPlatform()).toBe(custom);
  });

  it('refuses anything else and keeps the platform in use', () => {
    setPlatform('portable');
    expect(() => setPlatform('wasm' as 'node')).toThrow(TypeError);
    expect(() => setPlatform({} as Platform)).toThrow(TypeError);
    expect(getPlatform()).toBe(portablePlatform);
  });
});

describe('hex', () => {
  it('toHex of any slice is its lower-case hex, short (ids, made from codes) and long, interleaved lengths included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (b, x, y) => {
        const start = b.length === 0 ? 0 : x % (b.length + 1);
        const end = start + (b.length - start === 0 ? 0 : y % (b.length - start + 1));
        const want = Buffer.from(b.subarray(start, end)).toString('hex');
        expect(toHex(b, start, end)).toBe(want);
        expect(toHex(b)).toBe(Buffer.from(b).toString('hex'));
        expect(fromHex(want)).toEqual(b.subarray(start, end));
      }),
    );
  });
});

describe('grown', () => {
  it('copies a table into a new one of its kind, twice as long unless told, the rest zero', () => {
    const a = Int32Array.of(1, -2, 3);
    const b = grown(a);
    expect(b).toBeInstanceOf(Int32Array);
    expect([...b]).toEqual([1, -2, 3, 0, 0, 0]);
    expect(b.buffer).not.toBe(a.buffer);
    const c = grown(Float64Array.of(2 ** 40), 3);
    expect(c).toBeInstanceOf(Float64Array);
    expect([...c]).toEqual([2 ** 40, 0, 0]);
  });
});
