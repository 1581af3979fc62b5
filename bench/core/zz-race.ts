import { openEngine } from '../../src/engine.js';
import { MemoryLevel } from 'memory-level';
import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'race-'));
const engine = await openEngine({ path: dir, cacheBytes: 1 });
const repo = await engine.createRepo('demo');
const changes = Array.from({ length: 20000 }, (_, i) => ({ path: `d${i % 300}/e${i % 7}/f${i}.txt`, content: `file ${i}` }));
await repo.commit({ branch: 'main', message: 'm', author: { name: 'A', email: 'a@e' }, changes });
for (const delay of [0, 5, 20, 50, 100, 200, 400]) {
  const t0 = performance.now();
  const s = repo.sweep().then((r) => (console.log(delay, 'sweep done', Math.round(performance.now() - t0), r), r));
  await new Promise((r) => setTimeout(r, delay));
  console.log(delay, 'commit start', Math.round(performance.now() - t0));
  const c = repo.commit({ branch: 'main', message: 'm2', author: { name: 'A', email: 'a@e' }, changes: [{ path: `new${delay}/x.txt`, content: `new content ${delay}` }] }).then((r) => (console.log(delay, 'commit done', Math.round(performance.now() - t0)), r), (e) => console.log('commit failed', e.code));
  await Promise.all([s, c]);
  try { await repo.readFile('main', `new${delay}/x.txt`); } catch (e) { console.log(delay, 'BROKEN', (e as any).code); }
}
await engine.close();
