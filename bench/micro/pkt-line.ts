/**
 * pkt-line: decoding an ls-refs-sized response with `decodePkt` in a loop, with
 * `decodeAllPkts`, and with the streaming `PktReader` fed small and large chunks; encoding
 * lines one by one.
 * run: node --import tsx bench/micro/pkt-line.ts
 */
import { decodeAllPkts, decodePkt, encodePktLine, FLUSH_PKT, PktReader } from '../../src/protocol/pkt-line.js';
import { concat } from '../../src/platform/bytes.js';
import { compare } from './micro.js';

const lines: string[] = [];
for (let i = 0; i < 2000; i++) lines.push(`${((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(5)} refs/heads/agent/task-${i}`);
const encoded = concat([...lines.map((l) => encodePktLine(l)), FLUSH_PKT]);

function chunks(buf: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
const small = chunks(encoded, 1024);
const large = chunks(encoded, 64 * 1024);

async function readAll(parts: Uint8Array[]): Promise<number> {
  const reader = new PktReader(
    (async function* () {
      yield* parts;
    })(),
  );
  let n = 0;
  for (;;) {
    const p = await reader.read();
    if (p.type === 'end' || p.type === 'flush') return n;
    n++;
  }
}

await compare(`decode ${lines.length} ref lines (${encoded.length} bytes)`, [
  {
    name: 'decodePkt loop',
    fn: () => {
      let off = 0;
      let n = 0;
      for (;;) {
        const r = decodePkt(encoded, off);
        if (!r.complete || r.pkt.type === 'flush') return n;
        off += r.consumed;
        n++;
      }
    },
  },
  { name: 'decodeAllPkts', fn: () => decodeAllPkts(encoded).length },
  { name: 'PktReader, 64 KiB chunks', fn: () => readAll(large) },
  { name: 'PktReader, 1 KiB chunks', fn: () => readAll(small) },
]);

/** A variant for comparison: every line written into one buffer with encodeInto. */
function encodeIntoOneBuffer(ls: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  let cap = 0;
  for (const l of ls) cap += 4 + l.length * 3 + 1;
  const out = new Uint8Array(cap);
  let o = 0;
  for (const l of ls) {
    const { written } = enc.encodeInto(l, out.subarray(o + 4));
    out[o + 4 + written] = 10;
    const len = written + 5;
    const hex = len.toString(16).padStart(4, '0');
    for (let i = 0; i < 4; i++) out[o + i] = hex.charCodeAt(i);
    o += len;
  }
  return out.subarray(0, o);
}

await compare(`encode ${lines.length} ref lines`, [
  { name: 'encodePktLine each + concat', fn: () => concat(lines.map((l) => encodePktLine(l))) },
  { name: 'one buffer, TextEncoder.encodeInto', fn: () => encodeIntoOneBuffer(lines) },
]);
