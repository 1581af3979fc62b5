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

// ~2,300 blobs of a few KB each: the shape of a depth-1 pack of a mid-size source tree.
const entries: Uint8Array[] = [];
for (let i = 0; i < 2300; i++) {
  const text = `// module ${i}\n` + `export function f${i}(x) { return x * ${i} + ${i % 17}; }\n`.repeat(20 + (i % 60));
  entries.push(encodePackEntry('blob', utf8(text)));
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
