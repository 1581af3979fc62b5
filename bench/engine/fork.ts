/**
 * Forking: the time of `engine.forkRepo` and the bytes it adds (every key and value of the
 * database counted before and after), for a source holding one commit of N real files, on the
 * on-disk default (classic-level). A fork shares its source's object pool, so both should stay
 * flat whatever N is. Run: node --import tsx bench/engine/fork.ts [--files 20371] [--forks 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { openEngine } from '../../src/index.js';
import type { AnyLevel } from '../../src/storage/kv.js';
import { manyFiles } from '../shared/files.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const count = arg('files', 20_371);
const forks = arg('forks', 20);

/** Bytes of every key and value in the database. */
async function storedBytes(db: Level<Uint8Array, Uint8Array>): Promise<number> {
  let n = 0;
  for await (const [k, v] of db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) n += k.length + v.length;
  return n;
}

const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-fork-'));
const db = new Level<Uint8Array, Uint8Array>(join(tmp, 'db'));
const engine = await openEngine({ db: db as unknown as AnyLevel, packCache: { maxBytes: 0 } });
try {
  const files = manyFiles(count);
  const source = await engine.createRepo('source');
  await source.commit({ branch: 'main', message: 'tree', author: { name: 'Bench', email: 'bench@example.com' }, changes: files });
  for (let i = 0; i < 5; i++) await source.createBranch(`b${i}`, 'main');
  const sourceBytes = await storedBytes(db);
  const times: number[] = [];
  const added: number[] = [];
  for (let i = 0; i < forks; i++) {
    const before = await storedBytes(db);
    const t0 = performance.now();
    await engine.forkRepo('source', `fork-${i}`);
    times.push(performance.now() - t0);
    added.push((await storedBytes(db)) - before);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`source: ${files.length} files, ${(sourceBytes / 1048576).toFixed(1)} MiB stored`);
  console.log(`forkRepo x${forks}: median ${median.toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms; added ${Math.max(...added)} bytes at most per fork`);
} finally {
  await engine.close();
  await db.close();
  rmSync(tmp, { recursive: true, force: true });
}
