/**
 * The reused native zlib engines behind the Node platform's one-shot calls: the same results as
 * a fresh engine per call, and an engine that failed (corrupt or truncated input, output past
 * the declared size) never spoils the next call.
 */
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createOneShotZlib } from '../../src/platform/node-oneshot-zlib.js';
import { OutputLimitError } from '../../src/platform/errors.js';

const z = createOneShotZlib(zlib)!;
const enc = new TextEncoder();

function text(n: number, seed: number): Uint8Array {
  return enc.encode(Array.from({ length: n }, (_, i) => `line ${(i * seed) % 97} of ${seed}\n`).join(''));
}

describe('one-shot zlib over reused engines', () => {
  it('is available on Node', () => {
    expect(z).toBeDefined();
  });

  it('inflates the stream at the front of a buffer and says how much it used, call after call', () => {
    for (let seed = 1; seed < 40; seed++) {
      const body = text(seed * 7, seed);
      const stream = new Uint8Array(zlib.deflateSync(body, { level: seed % 10 }));
      const tail = Uint8Array.from([1, 2, 3, seed]);
      const r = z.inflatePrefix(Uint8Array.from([...stream, ...tail]), body.length)!;
      expect(Buffer.from(r.output).equals(Buffer.from(body))).toBe(true);
      expect(r.consumed).toBe(stream.length);
    }
    expect(z.inflatePrefix(new Uint8Array(zlib.deflateSync(new Uint8Array(0))), 0)!.output.length).toBe(0);
  });

  it('answers null at every truncation, refuses output past the declared size and corrupt data, and goes on working', () => {
    const body = text(300, 5);
    const stream = new Uint8Array(zlib.deflateSync(body));
    for (let n = 0; n < stream.length; n += 7) expect(z.inflatePrefix(stream.subarray(0, n), body.length)).toBeNull();
    expect(() => z.inflatePrefix(stream, body.length - 1)).toThrow(OutputLimitError);
    const bad = stream.slice();
    bad[bad.length - 1]! ^= 0xff; // Adler-32 mismatch
    expect(() => z.inflatePrefix(bad, body.length)).toThrow(/check/i);
    expect(() => z.inflatePrefix(Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff]), 10)).toThrow();
    const r = z.inflatePrefix(stream, body.length)!;
    expect(Buffer.from(r.output).equals(Buffer.from(body))).toBe(true);
  });

  it('deflates what zlib inflates back, small and large, at any level', () => {
    const big = new Uint8Array(2 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 27;
    for (const body of [new Uint8Array(0), text(10, 3), text(5000, 9), big]) {
      for (const level of [1, 6, 9]) {
        const out = z.deflate(body, level);
        expect(Buffer.from(zlib.inflateSync(out)).equals(Buffer.from(body))).toBe(true);
      }
    }
  });
});
