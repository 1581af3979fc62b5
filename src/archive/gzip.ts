/**
 * Gzip over a stream of chunks (fflate's streaming compressor): what `git archive
 * --format=tar.gz` adds around the tar. The header's mtime is 0, as git's internal gzip writes it.
 */
import { Gzip } from 'fflate';

/** Chunks collected before they are handed on (small tar records are batched into one push). */
const PUSH_BYTES = 64 * 1024;

/** Gzips `chunks` as they come (level 6, like `gzip -cn`). */
export async function* gzipStream(chunks: AsyncIterable<Uint8Array>, level: 6 | 9 | 1 = 6): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const gz = new Gzip({ level, mtime: 0 }, (chunk) => void out.push(chunk));
  let pending: Uint8Array[] = [];
  let size = 0;
  const flush = (final: boolean) => {
    const buf = new Uint8Array(size);
    let o = 0;
    for (const p of pending) {
      buf.set(p, o);
      o += p.length;
    }
    pending = [];
    size = 0;
    gz.push(buf, final);
  };
  for await (const c of chunks) {
    pending.push(c);
    size += c.length;
    if (size >= PUSH_BYTES) flush(false);
    while (out.length > 0) yield out.shift()!;
  }
  flush(true);
  while (out.length > 0) yield out.shift()!;
}
