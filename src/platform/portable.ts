/**
 * Portable implementation of the platform primitives for browsers and Electron renderers:
 * SHA-1 from @noble/hashes, zlib from fflate. Slower than node.ts, identical results.
 */
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { Inflate, Zlib, zlibSync } from 'fflate';
import type { Platform, Sha1Hasher, InflatePrefixResult } from './types.js';
import { OutputLimitError } from './errors.js';
import { concat } from './bytes.js';

class PortableSha1 implements Sha1Hasher {
  #h = nobleSha1.create();
  update(data: Uint8Array): void {
    this.#h.update(data);
  }
  digest(): Uint8Array {
    return this.#h.digest();
  }
}

/** Internal fields of fflate's streaming Inflate (pinned version): pending input and bit position. */
interface InflateInternals {
  p: Uint8Array;
  s: { p?: number; f?: number; l?: unknown };
}

function checkZlibHeader(data: Uint8Array): void {
  const cmf = data[0]!;
  const flg = data[1]!;
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20) {
    throw new Error('incorrect header check');
  }
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  const n = data.length;
  for (let i = 0; i < n; ) {
    const end = Math.min(i + 3800, n);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Below this size fflate is as quick as a CompressionStream, which costs a stream per buffer. */
const NATIVE_MIN_BYTES = 2048;

/** The runtime's zlib through CompressionStream('deflate') (zlib format, its default level). */
async function nativeDeflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new CompressionStream('deflate');
  const writer = stream.writable.getWriter();
  void writer.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
  void writer.close().catch(() => undefined);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  return concat(parts, total);
}

/**
 * Deflates a batch: in browsers the runtime's own zlib (about 3× fflate's speed in Chromium),
 * one buffer after another (many streams at once were slower), small buffers with fflate.
 */
async function deflateMany(data: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const d = data[i]!;
    out[i] = d.length < NATIVE_MIN_BYTES ? zlibSync(d, { level: 1 }) : await nativeDeflate(d);
  }
  return out;
}

const hasCompressionStream = typeof (globalThis as { CompressionStream?: unknown }).CompressionStream === 'function';

export const portablePlatform: Platform = {
  name: 'portable',
  createSha1: () => new PortableSha1(),
  sha1: (data) => nobleSha1(data),
  deflate: (data, level = 1) => zlibSync(data, { level: level as 1 }),
  ...(hasCompressionStream ? { deflateMany } : {}),
  createDeflater(level = 1) {
    let sink: (piece: Uint8Array) => void = () => undefined;
    const z = new Zlib({ level: level as 1 }, (piece) => sink(piece));
    return {
      push(input, onData) {
        sink = onData;
        z.push(input, false);
      },
      finish(onData) {
        sink = onData;
        z.push(new Uint8Array(0), true);
      },
      close: () => undefined,
    };
  },
  inflate(data, maxOutput = 2 ** 31 - 1) {
    const r = portablePlatform.inflatePrefix(data, maxOutput);
    if (r === null) throw new Error('unexpected end of file');
    return r.output;
  },
  inflatePrefix(data, maxOutput): InflatePrefixResult | null {
    if (data.length < 2) return null;
    checkZlibHeader(data);
    const parts: Uint8Array[] = [];
    let total = 0;
    const inf = new Inflate((chunk) => {
      total += chunk.length;
      if (total > maxOutput) throw new OutputLimitError(`inflated data exceeds ${maxOutput} bytes`);
      parts.push(chunk);
    });
    const body = data.subarray(2);
    // Not final: fflate then stops where the input does instead of reporting a truncated stream.
    inf.push(body, false);
    const st = (inf as unknown as InflateInternals).s;
    if (!st.f || st.l) return null; // final block not reached or still open: need more input
    const rest = (inf as unknown as InflateInternals).p;
    const deflateEnd = body.length - rest.length + ((st.p ?? 0) & 7 ? 1 : 0);
    const end = 2 + deflateEnd + 4;
    if (end > data.length) return null;
    const output = parts.length === 1 ? parts[0]! : concat(parts, total);
    const want = adler32(output);
    const got = ((data[end - 4]! << 24) | (data[end - 3]! << 16) | (data[end - 2]! << 8) | data[end - 1]!) >>> 0;
    if (want !== got) throw new Error('incorrect data check');
    return { output, consumed: end };
  },
};
