/**
 * One engine process of the cross-process sweep tests (sweep-across.test.ts): an engine over
 * the shared PostgreSQL table with a PostgresRefLock and `coordination` from COORD, that prints
 * `ready`, waits for `go`, runs its task, prints one JSON line and exits.
 *
 * Tasks: `slow-write` stores a commit's objects as one write and moves `refs/heads/slow` to it
 * only after a `move` line (a push whose ref update comes late); `sweep` sweeps once, counting
 * the expired refs its hooks saw; `commits` commits `count` times on its own branch, rewinding
 * it every third commit (garbage for the sweep).
 *
 * Env: LEVEL_GIT_TEST_PG (connection string), TABLE, TASK (JSON), COORD ('database' | 'process').
 */
import { createInterface } from 'node:readline';
import { MemoryLevel } from 'memory-level';
import { openEngine, ZERO_OID } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { PostgresLevel, PostgresRefLock } from '../../src/postgres/index.js';

type Task = { kind: 'slow-write'; content: string } | { kind: 'sweep' } | { kind: 'commits'; id: number; count: number };

const AUTHOR = { name: 'Sweep', email: 'sweep@example.com', timestamp: 1_700_000_000 };
const connectionString = process.env.LEVEL_GIT_TEST_PG!;
const task = JSON.parse(process.env.TASK!) as Task;
const db = new PostgresLevel({ connectionString, table: process.env.TABLE!, poolSize: 6 });
const lock = new PostgresRefLock({ connectionString, poolSize: 6 });
let expired = 0;
const engine = await openEngine({
  db,
  lock,
  coordination: process.env.COORD === 'process' ? 'process' : 'database',
  packCache: { warm: false },
  afterRefUpdate: (e) => {
    if (e.source === 'expire') expired += e.updates.length;
  },
});
const repo = await engine.getRepo(process.env.REPO ?? 'sweep');

const lines = createInterface({ input: process.stdin });
const queue: string[] = [];
const waiters: ((l: string) => void)[] = [];
lines.on('line', (l) => (waiters.length > 0 ? waiters.shift()!(l) : queue.push(l)));
const nextLine = () => new Promise<string>((r) => (queue.length > 0 ? r(queue.shift()!) : waiters.push(r)));

process.stdout.write('ready\n');
await nextLine();

let out: unknown;
if (task.kind === 'slow-write') {
  // The commit's objects come as a pack from a private scratch repository.
  const scratch = await openEngine({ db: new MemoryLevel() as never });
  const s = await scratch.createRepo('s');
  const c = await s.commit({ branch: 'main', message: 'slow', author: AUTHOR, changes: [{ path: 'dir/slow.txt', content: task.content }] });
  const chunks: Uint8Array[] = [];
  for await (const chunk of s.packObjects({ wants: [c.sha] })) chunks.push(chunk);
  out = await internalsOf(repo).withWrite(async () => {
    await repo.indexPack(chunks);
    process.stdout.write('stored\n');
    await nextLine();
    try {
      await repo.refs.transaction([{ ref: 'refs/heads/slow', oldOid: ZERO_OID, newOid: c.sha }]);
      return { sha: c.sha };
    } catch (err) {
      return { sha: c.sha, error: String(err) };
    }
  });
  await scratch.close();
} else if (task.kind === 'sweep') {
  const r = await engine.sweep();
  out = { ...r, expired };
} else {
  const tips: string[] = [];
  const branch = `w${task.id}`;
  for (let i = 0; i < task.count; i++) {
    const c = await repo.commit({
      branch,
      message: `w${task.id} c${i}`,
      author: AUTHOR,
      changes: [{ path: `w${task.id}/c${i}`, content: `${task.id}.${i}.${Math.random()}` }],
    });
    if (i % 3 === 2 && c.parents[0] !== undefined) {
      await repo.refs.transaction([{ ref: `refs/heads/${branch}`, oldOid: c.sha, newOid: c.parents[0] }]);
    } else tips.push(c.sha);
  }
  out = { tip: (await repo.refs.get(`refs/heads/${branch}`))?.oid, commits: tips.length };
}
process.stdout.write(JSON.stringify(out) + '\n');
lines.close();
await engine.close();
await db.close();
await lock.close();
