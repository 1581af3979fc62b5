/**
 * Listing repositories a page at a time with many of them: N repositories' name and record keys
 * are written directly in the engine's key schema (creating 100,000 through `createRepo` would
 * measure creation), then pages of 100 are read from the start, the middle and the end of the
 * name index, against `listRepos()` (every record read and sorted). On-disk classic-level.
 * Run: node --import tsx bench/engine/list-repos.ts [--repos 100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { openEngine } from '../../src/index.js';
import type { AnyLevel } from '../../src/storage/kv.js';
import { encodeRepoId, nameKey, nextIdKey, refKey, repoRecordKey } from '../../src/storage/keys.js';
import { encodeSymref } from '../../src/refs/ref-store.js';
import { branchRef } from '../../src/refs/ref-name.js';

const i = process.argv.indexOf('--repos');
const count = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const enc = new TextEncoder();

const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-list-'));
const db = new Level<Uint8Array, Uint8Array>(join(tmp, 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const createdAt = new Date().toISOString();
for (let start = 1; start <= count; start += 5000) {
  const ops = [];
  for (let id = start; id < Math.min(start + 5000, count + 1); id++) {
    const name = `org${id % 97}/repo-${id}`;
    ops.push({ type: 'put' as const, key: nameKey(name), value: encodeRepoId(id) });
    ops.push({ type: 'put' as const, key: repoRecordKey(id), value: enc.encode(JSON.stringify({ id, name, defaultBranch: 'main', createdAt })) });
    ops.push({ type: 'put' as const, key: refKey(id, 'HEAD'), value: encodeSymref(branchRef('main')) });
  }
  await db.batch(ops);
}
await db.put(nextIdKey(), encodeRepoId(count + 1));
const engine = await openEngine({ db: db as unknown as AnyLevel });
try {
  const time = async <T>(fn: () => Promise<T>, runs = 20): Promise<[number, T]> => {
    let r!: T;
    const ms: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      r = await fn();
      ms.push(performance.now() - t0);
    }
    return [ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!, r];
  };
  const [first, page1] = await time(() => engine.listReposPage({ limit: 100 }));
  let cursor = page1.nextCursor!;
  for (let k = 0; k < 200; k++) cursor = (await engine.listReposPage({ limit: 100, cursor })).nextCursor!;
  const [middle] = await time(() => engine.listReposPage({ limit: 100, cursor }));
  const [prefixed] = await time(() => engine.listReposPage({ limit: 100, prefix: 'org42/' }));
  const [all, repos] = await time(() => engine.listRepos(), 3);
  // Again once the writes above have settled (the first runs can meet LevelDB's compaction of the bulk load).
  const [firstAgain] = await time(() => engine.listReposPage({ limit: 100 }));
  console.log(`${count} repositories (${repos.length} listed by listRepos)`);
  console.log(
    `listReposPage limit 100: first page ${first.toFixed(2)} ms (${firstAgain.toFixed(2)} ms later), page 202 ${middle.toFixed(2)} ms, prefix 'org42/' ${prefixed.toFixed(2)} ms (medians)`,
  );
  console.log(`listRepos (everything, sorted): ${all.toFixed(0)} ms`);
} finally {
  await engine.close();
  await db.close();
  rmSync(tmp, { recursive: true, force: true });
}
