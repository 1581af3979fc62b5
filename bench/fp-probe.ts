// Probe (not committed): full clone of a history from the stored pack vs the planner.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { openEngine } from '../src/index.js';
import { internalsOf } from '../src/repo/internals.js';

const [fixture, dir] = process.argv.slice(2) as [string, string];
const packDir = `${fixture}/objects/pack`;
const pack = `${packDir}/${readdirSync(packDir).find((f) => f.endsWith('.pack'))}`;
const tip = execFileSync('git', ['-C', fixture, 'rev-parse', 'main']).toString().trim();
const path = `${dir}/db`;
const fresh = !existsSync(path);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
async function time<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const c0 = cpu(); const t0 = performance.now();
  const r = await fn();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu() - c0) / 1000).toFixed(2)} s CPU, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  return r;
}
const mode = process.argv[4] ?? 'stored';
const engine = await openEngine({ path, packCache: { maxBytes: 0, warm: false, ...(mode === 'planner' ? { fullPacks: false } : {}) } });
const repo = fresh ? await engine.createRepo('h') : await engine.getRepo('h');
if (fresh) {
  await time('indexPack', () => repo.indexPack(createReadStream(pack)));
  await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: '0'.repeat(40), newOid: tip }]);
  await time('background build', async () => {
    while (engine.packCache.stats.fullBuilt === 0) await new Promise((r) => setTimeout(r, 100));
  });
}
const input = { wants: [tip as never], ofsDelta: true };
for (let i = 0; i < 2; i++)
  await time(`full clone (${mode}) #${i}`, async () => {
    let n = 0;
    let count = -1;
    for await (const c of (await internalsOf(repo).fetchPack(input)).pack) {
      if (count < 0) count = new DataView(c.buffer, c.byteOffset).getUint32(8);
      n += c.length;
    }
    console.log(`  ${count} objects, ${n} bytes`);
    return n;
  });
console.log(engine.packCache.stats);
await engine.close();
