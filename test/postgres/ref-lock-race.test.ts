/**
 * Ref transactions serialized across processes: several real engine processes (race-child.ts)
 * over one PostgreSQL table, each with a PostgresRefLock, race on one ref.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { PostgresLevel, PostgresRefLock, advisoryLockId } from '../../src/postgres/index.js';
import { findPostgres, havePostgres, startPostgres, type PostgresServer } from './server.js';

const AUTHOR = { name: 'Race', email: 'race@example.com', timestamp: 1_700_000_000 };
const PROCESSES = 3;

interface Child {
  proc: ChildProcess;
  result: Promise<any>;
  ready: Promise<void>;
}

function startChild(connectionString: string, table: string, task: object): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/postgres/race-child.ts'], {
    env: { ...process.env, LEVEL_GIT_TEST_PG: connectionString, TABLE: table, TASK: JSON.stringify(task) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout! });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<any>((resolve, reject) => {
    lines.on('line', (l) => (l === 'ready' ? onReady() : resolve(JSON.parse(l))));
    proc.on('close', (code) => reject(new Error(`child exited (${code}) without a result: ${stderr}`)));
  });
  return { proc, ready, result };
}

/** Starts the children, waits until all are ready, releases them at once, returns their results. */
async function race(connectionString: string, table: string, tasks: object[]): Promise<any[]> {
  const children = tasks.map((t) => startChild(connectionString, table, t));
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.proc.stdin!.write('go\n');
  return Promise.all(children.map((c) => c.result));
}

describe.skipIf(!havePostgres())('PostgresRefLock: ref transactions across processes', () => {
  let server: PostgresServer;
  let db: PostgresLevel;
  let lock: PostgresRefLock;
  let engine: Engine;
  let repo: Repository;
  const table = 'race';

  beforeAll(async () => {
    server = await startPostgres(findPostgres() as never);
    db = new PostgresLevel({ connectionString: server.connectionString, table });
    lock = new PostgresRefLock({ connectionString: server.connectionString });
    engine = await openEngine({ db, lock, packCache: { warm: false } }); // see engine-conformance.test.ts
    repo = await engine.createRepo('race');
  });
  afterAll(async () => {
    await engine?.close();
    await db?.close();
    await lock?.close();
    server?.stop();
  });

  it('compare-and-swap from one old value in 3 processes (8 attempts each): exactly one winner', async () => {
    const base = (await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'f', content: 'base' }] })).sha;
    const targets: string[] = [];
    for (let i = 0; i < PROCESSES * 8; i++)
      targets.push((await repo.commit({ branch: 'side', message: `t${i}`, author: AUTHOR, changes: [{ path: 'f', content: `t${i}` }] })).sha);
    const results = await race(
      server.connectionString,
      table,
      Array.from({ length: PROCESSES }, (_, p) => ({ kind: 'cas', base, targets: targets.slice(p * 8, p * 8 + 8) })),
    );
    for (const r of results) expect(r.errors).toEqual([]);
    const won = results.flatMap((r) => r.won as string[]);
    expect(won.length).toBe(1);
    expect(results.reduce((n, r) => n + r.conflicts, 0)).toBe(PROCESSES * 8 - 1);
    expect((await repo.refs.get('refs/heads/main'))?.oid).toBe(won[0]);
  });

  it('read-then-compare-and-swap loops in 3 processes: every commit lands, none lost', async () => {
    const count = 6;
    const results = await race(
      server.connectionString,
      table,
      Array.from({ length: PROCESSES }, (_, id) => ({ kind: 'cas-loop', id, count })),
    );
    const log = await repo.log('counter', { limit: 1000 });
    expect(log.length).toBe(PROCESSES * count);
    expect(new Set(log.map((c) => c.sha))).toEqual(new Set(results.flatMap((r) => r.shas as string[])));
    for (let i = 0; i < log.length - 1; i++) expect(log[i]!.parents).toEqual([log[i + 1]!.sha]);
    expect((await repo.listTree('counter')).length).toBe(PROCESSES);
  });

  it('the API commit queue (no expectedHeadSha) in 3 processes: every commit lands on one line', async () => {
    const count = 5;
    const results = await race(
      server.connectionString,
      table,
      Array.from({ length: PROCESSES }, (_, id) => ({ kind: 'queue', id, count })),
    );
    for (const r of results) expect(r.errors).toEqual([]);
    const log = await repo.log('queue', { limit: 1000 });
    expect(log.length).toBe(PROCESSES * count);
    expect(new Set(log.map((c) => c.sha))).toEqual(new Set(results.flatMap((r) => r.shas as string[])));
    for (let i = 0; i < log.length - 1; i++) expect(log[i]!.parents).toEqual([log[i + 1]!.sha]);
  });

  it('releases the lock when its holder dies, and keys in different namespaces do not share locks', async () => {
    expect(advisoryLockId('level-git', '1')).not.toBe(advisoryLockId('other', '1'));
    expect(advisoryLockId('level-git', '1')).toBe(advisoryLockId('level-git', '1'));
    // A lock held by a session that ends (a process killed) is released by PostgreSQL.
    const other = new PostgresRefLock({ connectionString: server.connectionString, poolSize: 1 });
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const held = other.run('1', async () => {
      entered();
      await new Promise(() => {}); // never finishes: only its session's end releases the lock
    });
    void held.catch(() => {});
    await inside;
    const pid = (await db.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`)).rows[0]?.pid;
    expect(pid).toBeDefined();
    let got = false;
    const waiting = lock.run('1', async () => (got = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toBe(false);
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    await waiting;
    expect(got).toBe(true);
  });
});
