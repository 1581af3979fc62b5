/**
 * Where a PostgreSQL-backed engine's time goes, in one process (its own throwaway PostgreSQL):
 *
 * 1. Statements (round trips) per cold depth-1 clone of a 5,000-file tree four directory
 *    levels deep (stock `git clone --depth 1` against the Node handler; a fresh engine, so the
 *    pack cache and the decoded-object cache are empty), and per clone with the object cache
 *    warm; each statement traced (what it is, how many keys).
 * 2. Statements per API commit of 10 files (`repo.commit`), traced the same way.
 * 3. `bytea` transfer: node-postgres reads every column as text, so `bytea` arrives hex-encoded
 *    (twice its size, decoded by the client). The same `getMany` of every object of the tree,
 *    as hex (what the level does), as base64 (`encode(v, 'base64')`), only the lengths (the
 *    round trip and the server's lookup without the transfer), and with `binary: true` (checked
 *    for corruption: node-postgres 8 decodes every field as UTF-8).
 *
 * Run: node --import tsx bench/engine/postgres.ts   (BENCH_PG_FILES=5000, BENCH_PG_RUNS=5,
 *      BENCH_PG_ONLY=commit: the commits only)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { openEngine } from '../../src/index.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { createPostgresLevel, PostgresRefLock } from '../../src/postgres/index.js';
import { git as gitRun } from '../shared/exec.js';
import { startBenchPostgres } from '../shared/postgres.js';
import { summarize } from '../shared/stats.js';

const FILES = Number(process.env.BENCH_PG_FILES ?? 5000);
const RUNS = Number(process.env.BENCH_PG_RUNS ?? 5);
const author = { name: 'Bench', email: 'bench@example.com', timestamp: 1_700_000_000 };

/** A tree of `n` files four directory levels deep: a/b/c/file (10 × 10 × 10 directories). */
function treeFiles(n: number): { path: string; content: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `d${i % 10}/d${Math.floor(i / 10) % 10}/d${Math.floor(i / 100) % 10}/file${i}.ts`,
    content: `// file ${i}\n${Array.from({ length: 20 }, (_, l) => `export const v${l} = ${(i * 31 + l) % 997}; // line ${l} of file ${i}`).join('\n')}\n`,
  }));
}

type Level = ReturnType<typeof createPostgresLevel<Buffer, Buffer>>;

/** Records each statement the level sends: a short label and the number of keys of an array parameter. */
function trace(db: Level): { start(): void; stop(): { statements: number; ms: number; kinds: string[] } } {
  const query = db.query.bind(db);
  let on = false;
  let kinds: string[] = [];
  let ms = 0;
  db.query = async (text, values = []) => {
    if (!on) return query(text, values);
    const first = values[0];
    const n = Array.isArray(first) ? first.length : 1;
    const what =
      /^\s*(WITH d AS \(DELETE|INSERT|DELETE|SELECT q\.i::int4 AS i,|SELECT q\.i|SELECT k,|SELECT k|SELECT 1|SELECT)/.exec(text)?.[1] ?? text.slice(0, 30);
    const label =
      { 'SELECT q.i::int4 AS i,': 'getMany', 'SELECT q.i': 'hasMany', SELECT: 'get', 'SELECT 1': 'has', 'SELECT k,': 'entries', 'SELECT k': 'keys' }[what] ??
      what;
    kinds.push(`${label}(${n})`);
    const t0 = performance.now();
    try {
      return await query(text, values);
    } finally {
      ms += performance.now() - t0;
    }
  };
  return {
    start() {
      on = true;
      kinds = [];
      ms = 0;
    },
    stop() {
      on = false;
      return { statements: kinds.length, ms, kinds };
    },
  };
}

async function main(): Promise<void> {
  const pg = await startBenchPostgres();
  const url = pg.createDatabase('level_git_probe');
  const clones = mkdtempSync(join('/dev/shm', 'level-git-pg-probe-'));
  try {
    // ---- build the tree through the API (pack cache off: every clone builds its pack)
    const options = { packCache: { maxBytes: 0, warm: false } };
    const db0 = createPostgresLevel<Buffer, Buffer>({ connectionString: url, keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const lock0 = new PostgresRefLock({ connectionString: url });
    const e0 = await openEngine({ db: db0, lock: lock0, ...options });
    const repo0 = await e0.createRepo('tree');
    const t0 = performance.now();
    await repo0.commit({ branch: 'main', message: 'tree', author, changes: treeFiles(FILES) });
    console.log(`committed ${FILES} files (4 directory levels, 1,111 trees) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const commitTrace = trace(db0);
    const commitCounts: number[] = [];
    const lockCounts: number[] = [];
    let lastKinds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const lock0Before = lock0.queryCount;
      commitTrace.start();
      await repo0.commit({
        branch: 'main',
        message: `step ${i}`,
        author,
        changes: Array.from({ length: 10 }, (_, k) => ({ path: `agent/f${k}.ts`, content: `export const step${k} = ${i};\n` })),
      });
      const r = commitTrace.stop();
      commitCounts.push(r.statements);
      lockCounts.push(lock0.queryCount - lock0Before);
      lastKinds = r.kinds;
    }
    console.log(`API commit of 10 files: ${commitCounts.join(', ')} level statements, ${lockCounts.join(', ')} lock statements`);
    console.log(`  last: ${lastKinds.join(' ')}`);
    // Back to back, as an agent commits turn by turn, with the background work each branch move
    // starts (materializing the new tip for depth-1 clones): everything until it has drained.
    const burst = 10;
    commitTrace.start();
    const b0 = performance.now();
    const lat: number[] = [];
    for (let i = 0; i < burst; i++) {
      const s0 = performance.now();
      await repo0.commit({
        branch: 'main',
        message: `burst ${i}`,
        author,
        changes: Array.from({ length: 10 }, (_, k) => ({ path: `agent/f${k}.ts`, content: `export const burst${k} = ${i};\n` })),
      });
      lat.push(performance.now() - s0);
    }
    const burstMs = performance.now() - b0;
    await new Promise((r) => setTimeout(r, 3000));
    const drained = commitTrace.stop();
    console.log(
      `${burst} commits back to back: ${burstMs.toFixed(0)} ms (median commit ${summarize(lat).median.toFixed(0)} ms); with the background work drained: ` +
        `${drained.statements} statements, summed latency ${drained.ms.toFixed(0)} ms`,
    );
    await e0.close();
    await db0.close();
    await lock0.close();
    if (process.env.BENCH_PG_ONLY === 'commit') return;

    // ---- depth-1 clones: each run a fresh engine (every cache empty), then one more clone on it (object cache warm)
    const cold: { statements: number; ms: number; wall: number }[] = [];
    const warmObjects: { statements: number; ms: number; wall: number }[] = [];
    let coldKinds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const db = createPostgresLevel<Buffer, Buffer>({ connectionString: url, keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const lock = new PostgresRefLock({ connectionString: url });
      const engine = await openEngine({ db, lock, ...options });
      const handler = createGitNodeHandler({ engine });
      const server = createServer((req, res) => handler(req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const t = trace(db);
      for (const into of [cold, warmObjects]) {
        t.start();
        const dest = join(clones, `c${i}-${into.length}`);
        const r = await gitRun(['clone', '--quiet', '--depth', '1', '--no-checkout', `http://127.0.0.1:${port}/tree.git`, dest]);
        const s = t.stop();
        if (r.code !== 0) throw new Error(`clone failed: ${r.stderr}`);
        rmSync(dest, { recursive: true, force: true });
        into.push({ statements: s.statements, ms: s.ms, wall: r.ms });
        if (into === cold) coldKinds = s.kinds;
      }
      await new Promise<void>((r) => server.close(() => r()));
      await engine.close();
      await db.close();
      await lock.close();
    }
    const show = (name: string, xs: typeof cold) =>
      console.log(
        `${name}: statements ${xs.map((x) => x.statements).join(', ')}; clone ${summarize(xs.map((x) => x.wall)).median.toFixed(0)} ms median, ` +
          `statements' summed latency ${summarize(xs.map((x) => x.ms)).median.toFixed(0)} ms median`,
      );
    show('depth-1 clone, fresh engine (pack and object caches empty)', cold);
    show('depth-1 clone, object cache warm, pack cache off', warmObjects);
    console.log(`  cold trace: ${coldKinds.join(' ')}`);

    // ---- bytea transfer
    const pool = new (await import('pg')).default.Pool({ connectionString: url, max: 2 });
    const { rows: keyRows } = await pool.query('SELECT k FROM level_git');
    const keys = keyRows.map((r: { k: Buffer }) => r.k);
    const { rows: sizeRows } = await pool.query('SELECT sum(length(v))::int8 AS n FROM level_git');
    console.log(
      `bytea transfer: all ${keys.length} rows of the database (${(Number(sizeRows[0].n) / 1e6).toFixed(2)} MB of values), one getMany each way, ${RUNS * 2} runs`,
    );
    const t = 'level_git';
    const variants: [string, string, boolean][] = [
      [
        'hex (text protocol, as the level reads)',
        `SELECT q.i::int4 AS i, t.v FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`,
        false,
      ],
      [
        'base64 (encode(v, base64), decoded by Buffer.from)',
        `SELECT q.i::int4 AS i, encode(t.v, 'base64') AS v FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`,
        false,
      ],
      [
        'lengths only (lookup and round trip, no values)',
        `SELECT q.i::int4 AS i, length(t.v) AS v FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`,
        false,
      ],
      ['binary: true', `SELECT q.i::int4 AS i, t.v FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`, true],
    ];
    const reference = (await pool.query(variants[0]![1], [keys])).rows as { i: number; v: Buffer }[];
    for (const [name, text, binary] of variants) {
      const times: number[] = [];
      const cpu: number[] = [];
      let intact = true;
      for (let i = 0; i < RUNS * 2; i++) {
        const c0 = process.cpuUsage();
        const s = performance.now();
        // `binary` is a QueryConfig field node-postgres reads, missing from its type definitions.
        const { rows } = await pool.query({ text, values: [keys], binary } as { text: string; values: unknown[] });
        const out = name.startsWith('base64') ? rows.map((r: { v: string }) => Buffer.from(r.v, 'base64')) : rows.map((r: { v: unknown }) => r.v);
        times.push(performance.now() - s);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        if (i === 0 && !name.startsWith('lengths')) {
          intact = out.length === reference.length && out.every((v: unknown, j: number) => Buffer.isBuffer(v) && v.equals(reference[j]!.v));
        }
      }
      console.log(
        `  ${name}: ${summarize(times).median.toFixed(1)} ms median (client CPU ${summarize(cpu).median.toFixed(1)} ms)${name.startsWith('lengths') ? '' : intact ? ', values intact' : ', VALUES CORRUPTED'}`,
      );
    }
    // The same through the level (what the engine calls): the whole read as the code stands.
    const level = createPostgresLevel<Buffer, Buffer>({ connectionString: url, keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await level.open();
    const lt: number[] = [];
    const lc: number[] = [];
    for (let i = 0; i < RUNS * 2; i++) {
      const c0 = process.cpuUsage();
      const s = performance.now();
      await level.getMany(keys);
      lt.push(performance.now() - s);
      const c = process.cpuUsage(c0);
      lc.push((c.user + c.system) / 1000);
    }
    console.log(`  level.getMany of every key: ${summarize(lt).median.toFixed(1)} ms median (client CPU ${summarize(lc).median.toFixed(1)} ms)`);
    await level.close();
    await pool.end();
  } finally {
    rmSync(clones, { recursive: true, force: true });
    pg.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
