import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../src/index.js';
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid + ":" + readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim(), (Number(f[11]) + Number(f[12])) * 10);
    } catch {}
  }
  return out;
}
const pack = new Uint8Array(readFileSync(process.argv[2]!));
const q = Number(process.argv[3]) * 1024 * 1024;
const chunks: Uint8Array[] = [];
for (let i = 0; i < pack.length; i += 65536) chunks.push(pack.subarray(i, i + 65536));
const dir = mkdtempSync(join(tmpdir(), 'ipq-'));
const engine = await openEngine({ path: join(dir, 'db'), packCache: { maxBytes: 0 }, ingest: { memoryQuarantineBytes: 32 * 1024 * 1024, baseCacheBytes: q } });
const repo = await engine.createRepo('in');
const before = threadCpu();
const t = performance.now();
await repo.indexPack(chunks);
const wall = performance.now() - t;
await new Promise((r) => setTimeout(r, 4000)); // let compaction run
const spent = [...threadCpu()].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const).filter(([, ms]) => ms > 50);
console.log(`q=${process.argv[3]}MiB wall ${wall.toFixed(0)} ms`, spent.map(([t, ms]) => `${t}:${ms}`).join(' '));
await engine.close();
rmSync(dir, { recursive: true, force: true });
