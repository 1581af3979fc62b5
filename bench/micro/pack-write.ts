/**
 * Pack writing from stored pack-ready entries (header + zlib stream, as level-git stores
 * objects): `writePackSync` against the streaming `writePack` with several chunk sizes, and
 * the cost of framing the result on sideband channel 1.
 * run: node --import tsx bench/micro/pack-write.ts
 */
import { encodePackEntry } from '../../src/pack/entry.js';
import { writePack, writePackSync } from '../../src/pack/pack-writer.js';
import { encodeSideband } from '../../src/protocol/sideband.js';
import { utf8 } from '../../src/platform/bytes.js';
import { compare } from './micro.js';

// ~2,300 blobs of 0.5–4 KB of code-like text (word soup that compresses about 4:1):
// the shape of a depth-1 pack of a mid-size source tree (rxjs: 2,277 files).
let seed = 42;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const words = [
  'const',
  'return',
  'function',
  'export',
  'import',
  'value',
  'observer',
  'subscribe',
  'pipe',
  'map',
  'filter',
  'index',
  'length',
  'null',
  'undefined',
  'this',
];
const entries: Uint8Array[] = [];
for (let i = 0; i < 2300; i++) {
  const parts: string[] = [];
  const size = 500 + rand(3500);
  let n = 0;
  while (n < size) {
    const w = rand(3) === 0 ? `${words[rand(words.length)]}${rand(100000).toString(36)}` : words[rand(words.length)]!;
    parts.push(w);
    n += w.length + 1;
  }
  entries.push(encodePackEntry('blob', utf8(parts.join(rand(8) === 0 ? '\n' : ' '))));
}
const total = entries.reduce((a, e) => a + e.length, 0);

async function drain(chunkSize: number): Promise<number> {
  let n = 0;
  for await (const c of writePack(entries.length, entries, { chunkSize })) n += c.length;
  return n;
}

await compare(`pack of ${entries.length} stored entries (${(total / 1e6).toFixed(1)} MB)`, [
  { name: 'writePackSync', fn: () => writePackSync(entries).length },
  { name: 'writePack, 16 KiB chunks', fn: () => drain(16 * 1024) },
  { name: 'writePack, 64 KiB chunks', fn: () => drain(64 * 1024) },
  { name: 'writePack, 256 KiB chunks', fn: () => drain(256 * 1024) },
]);

const pack = writePackSync(entries);
await compare(`sideband framing of a ${(pack.length / 1e6).toFixed(1)} MB pack`, [
  { name: 'encodeSideband (65515-byte packets)', fn: () => encodeSideband(1, pack).length },
  { name: 'encodeSideband (8 KiB packets)', fn: () => encodeSideband(1, pack, 8192).length },
]);
