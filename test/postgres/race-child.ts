/**
 * One engine process of the cross-process race tests (ref-lock-race.test.ts): opens an engine
 * over the shared PostgreSQL table with a PostgresRefLock, prints `ready`, waits for `go` on
 * stdin, runs its part of the race, prints one JSON line of results and exits.
 *
 * Env: LEVEL_GIT_TEST_PG (connection string), TABLE, TASK (JSON: what to race).
 */
import { createInterface } from 'node:readline';
import { openEngine, RefConflictError } from '../../src/index.js';
import { PostgresLevel, PostgresRefLock } from '../../src/postgres/index.js';

type Task = { kind: 'cas'; base: string; targets: string[] } | { kind: 'cas-loop'; id: number; count: number } | { kind: 'queue'; id: number; count: number };

const AUTHOR = { name: 'Race', email: 'race@example.com', timestamp: 1_700_000_000 };
const connectionString = process.env.LEVEL_GIT_TEST_PG!;
const task = JSON.parse(process.env.TASK!) as Task;
const db = new PostgresLevel({ connectionString, table: process.env.TABLE!, poolSize: 8 });
const lock = new PostgresRefLock({ connectionString, poolSize: 8 });
// No background warming: it would only compete with the race (and outlive the exit).
const engine = await openEngine({ db, lock, packCache: { warm: false } });
const repo = await engine.getRepo('race');

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => lines.once('line', () => resolve()));

let out: unknown;
if (task.kind === 'cas') {
  // Every target at once, all from the same old value: at most one may win, here or anywhere.
  const results = await Promise.allSettled(task.targets.map((t) => repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: task.base, newOid: t }])));
  out = {
    won: task.targets.filter((_, i) => results[i]!.status === 'fulfilled'),
    conflicts: results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ERR_REF_CONFLICT').length,
    errors: results
      .filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code !== 'ERR_REF_CONFLICT')
      .map((r) => String((r as PromiseRejectedResult).reason)),
  };
} else if (task.kind === 'cas-loop') {
  // Read the tip, commit on it with expectedHeadSha, retry on conflict: every commit must land.
  const shas: string[] = [];
  let conflicts = 0;
  for (let i = 0; i < task.count; i++) {
    for (;;) {
      const head = (await repo.refs.get('refs/heads/counter'))?.oid;
      try {
        const c = await repo.commit({
          branch: 'counter',
          message: `p${task.id} c${i}`,
          author: AUTHOR,
          changes: [{ path: `p${task.id}/c${i}`, content: `${i}` }],
          expectedHeadSha: head,
        });
        shas.push(c.sha);
        break;
      } catch (err) {
        if (!(err instanceof RefConflictError)) throw err;
        conflicts++;
      }
    }
  }
  out = { shas, conflicts };
} else {
  // The API commit queue: no expectation, the engine rebuilds on the new tip.
  const shas: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < task.count; i++) {
    try {
      shas.push(
        (await repo.commit({ branch: 'queue', message: `q${task.id} c${i}`, author: AUTHOR, changes: [{ path: `q${task.id}/c${i}`, content: `${i}` }] })).sha,
      );
    } catch (err) {
      errors.push(String(err));
    }
  }
  out = { shas, errors };
}
process.stdout.write(JSON.stringify(out) + '\n');
lines.close();
await engine.close();
await db.close();
await lock.close();
