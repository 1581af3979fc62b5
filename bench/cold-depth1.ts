/**
 * The cold depth-1 pack in one process, without HTTP or a client: opens the engine over an
 * on-disk database, builds the depth-1 pack of a branch `--runs` times (pack cache off, so every
 * run builds; the first is the cold one) and prints, per run: when the plan was done and when the
 * first entries (past the 12-byte header) came out, wall and CPU time (all threads), CPU by
 * thread (main, the others: LevelDB's reads on libuv's pool, V8's helpers) and the anonymous and
 * file-backed resident memory before and after. With `--jit-warm N`, a repository of N files in
 * memory-level is packed first (does a warmed-up JIT help the cold pack?). With `--no-depth1-plans`,
 * stored depth-1 plans (repo/depth1-plan.ts) are not used: every run walks the tree as before them.
 * Each run also prints the pack's trailer (the same bytes give the same trailer) and whether a
 * stored plan answered.
 *
 * usage: node --import tsx bench/cold-depth1.ts --data <db dir> [--repo h] [--branch main] [--runs 3] [--jit-warm N] [--no-depth1-plans]
 *   A database: `level-git serve --data X`, a push of a fixture into a repository `h`, then `--data X/db`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Repository } from '../src/index.js';
import { internalsOf } from '../src/repo/internals.js';
import { enableDepth1Plans } from '../src/repo/enable.js';

enableDepth1Plans(); // as the Node entry does

const arg = (flag: string, fallback?: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : fallback;
};

/** CPU milliseconds of each thread of this process (Linux /proc; 10 ms ticks). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

/** RssAnon and RssFile, MiB. */
function rss(): string {
  const lines = readFileSync('/proc/self/status', 'utf8').split('\n');
  const kb = (name: string) => Number(lines.find((l) => l.startsWith(name))?.split(/\s+/)[1] ?? 0);
  return `anon ${(kb('RssAnon:') / 1024).toFixed(1)} MiB, file ${(kb('RssFile:') / 1024).toFixed(1)} MiB`;
}

/** One depth-1 pack of `tip`, consumed; its timings. */
async function depth1(repo: Repository, tip: string): Promise<{ plan: number; first: number; total: number; bytes: number; trailer: string }> {
  const w0 = performance.now();
  const answer = await internalsOf(repo).fetchPack({ wants: [tip as never], depth: 1, includeTags: [], ofsDelta: true });
  const plan = performance.now() - w0;
  let bytes = 0;
  let first = 0;
  let last: Uint8Array = new Uint8Array(0);
  for await (const chunk of answer.pack) {
    bytes += chunk.length;
    last = chunk;
    if (first === 0 && bytes > 12) first = performance.now() - w0;
  }
  return { plan, first, total: performance.now() - w0, bytes, trailer: Buffer.from(last.subarray(-20)).toString('hex').slice(0, 12) };
}

const warm = Number(arg('--jit-warm', '0'));
if (warm > 0) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const mem = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
  const r = await mem.createRepo('w');
  const changes = Array.from({ length: warm }, (_, i) => ({ path: `d${i % 20}/e${i % 7}/f${i}.txt`, content: `file ${i}\n`.repeat(20 + (i % 50)) }));
  const { sha } = await r.commit({ branch: 'main', message: 'w', author: { name: 'a', email: 'a@example.com' }, changes });
  for (let k = 0; k < 5; k++) await depth1(r, sha);
  await mem.close();
  const c = process.cpuUsage(c0);
  console.log(`warm-up: ${(performance.now() - w0).toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU`);
}

const t0 = performance.now();
const depth1Plans = !process.argv.includes('--no-depth1-plans');
const engine = await openEngine({ path: arg('--data')!, packCache: { maxBytes: 0, warm: false, depth1Plans } });
const repo = await engine.getRepo(arg('--repo', 'h')!);
const tip = await repo.resolve(`refs/heads/${arg('--branch', 'main')}`);
console.log(`open ${(performance.now() - t0).toFixed(0)} ms`);
for (let r = 0; r < Number(arg('--runs', '3')); r++) {
  const before = rss();
  const t = threadCpu();
  const c0 = process.cpuUsage();
  const served = engine.packCache.stats.depth1Served;
  const run = await depth1(repo, tip);
  const c = process.cpuUsage(c0);
  let main = 0;
  let others = 0;
  for (const [id, ms] of threadCpu()) {
    const d = ms - (t.get(id) ?? 0);
    if (id === String(process.pid)) main += d;
    else others += d;
  }
  console.log(
    `run ${r}: plan ${run.plan.toFixed(0)} ms, first entries ${run.first.toFixed(0)} ms, done ${run.total.toFixed(0)} ms; ` +
      `CPU ${((c.user + c.system) / 1000).toFixed(0)} ms (sys ${(c.system / 1000).toFixed(0)}; main thread ${main}, others ${others}); ` +
      `${run.bytes} bytes (trailer ${run.trailer}, ${engine.packCache.stats.depth1Served > served ? 'stored plan' : 'planned'}); RSS ${before} -> ${rss()}`,
  );
}
await engine.close();
