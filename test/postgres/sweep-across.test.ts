/**
 * The sweep across processes (coordination 'database'): engine processes (sweep-child.ts) and
 * this one over one PostgreSQL table. A write in flight in another process holds the object
 * phase back (the objects it stored before its ref moves are not swept); expired ephemeral refs
 * are removed once when two processes sweep at the same moment; a sweep looping while two
 * processes commit and rewind loses no reachable object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { PostgresLevel, PostgresRefLock } from '../../src/postgres/index.js';
import { findPostgres, havePostgres, startPostgres, type PostgresServer } from './server.js';

const AUTHOR = { name: 'Sweep', email: 'sweep@example.com', timestamp: 1_700_000_000 };
const TABLE = 'sweeps';

interface Child {
  proc: ChildProcess;
  /** Resolves with the next line the child prints. */
  line(): Promise<string>;
  send(line: string): void;
}

function startChild(connectionString: string, repo: string, task: object): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/postgres/sweep-child.ts'], {
    env: { ...process.env, LEVEL_GIT_TEST_PG: connectionString, TABLE, REPO: repo, TASK: JSON.stringify(task), COORD: 'database' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const queue: string[] = [];
  const waiters: { ok: (l: string) => void; fail: (e: Error) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => (waiters.length > 0 ? waiters.shift()!.ok(l) : queue.push(l)));
  proc.on('close', (code) => {
    for (const w of waiters.splice(0)) w.fail(new Error(`child exited (${code}): ${stderr}`));
  });
  return {
    proc,
    line: () =>
      new Promise<string>((ok, fail) => {
        if (queue.length > 0) ok(queue.shift()!);
        else if (proc.exitCode !== null) fail(new Error(`child exited (${proc.exitCode}): ${stderr}`));
        else waiters.push({ ok, fail });
      }),
    send: (l) => proc.stdin!.write(`${l}\n`),
  };
}

/** Reads every file of every commit reachable from the repository's branches: throws on a missing object. */
async function readEverything(repo: Repository): Promise<number> {
  let files = 0;
  for (const { sha } of await repo.listBranches()) {
    for (const entry of await repo.log(sha, { limit: 1000 })) {
      for (const f of await repo.listTree(entry.sha, { recursive: true })) {
        if (f.type !== 'blob') continue;
        await repo.readFile(entry.sha, f.path);
        files++;
      }
    }
  }
  return files;
}

describe.skipIf(!havePostgres())('the sweep across processes (coordination: database)', () => {
  let server: PostgresServer;
  let db: PostgresLevel;
  let lock: PostgresRefLock;
  let engine: Engine;
  let expired = 0;

  beforeAll(async () => {
    server = await startPostgres(findPostgres() as never);
    db = new PostgresLevel({ connectionString: server.connectionString, table: TABLE });
    lock = new PostgresRefLock({ connectionString: server.connectionString });
    engine = await openEngine({
      db,
      lock,
      coordination: 'database',
      packCache: { warm: false },
      afterRefUpdate: (e) => {
        if (e.source === 'expire') expired += e.updates.length;
      },
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await db?.close();
    await lock?.close();
    server?.stop();
  });

  it("holds the object phase back while another process's write is in flight: its objects survive", async () => {
    const repo = await engine.createRepo('gate');
    await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    await repo.sweep(); // the first sweep: baseline
    const child = startChild(server.connectionString, 'gate', { kind: 'slow-write', content: 'stored by another process' });
    try {
      expect(await child.line()).toBe('ready');
      child.send('go');
      expect(await child.line()).toBe('stored');
      // Garbage, so the sweep has an object phase to run.
      await repo.commit({ branch: 'junk', message: 'junk', author: AUTHOR, changes: [{ path: 'j', content: 'junk' }] });
      await repo.deleteBranch('junk');
      const held = await repo.sweep({ waitMs: 1500 });
      expect(held.busy).toBe(true);
      expect(held.objects).toBe(0);
      child.send('move');
      const r = JSON.parse(await child.line());
      expect(r.error).toBeUndefined();
      const done = await repo.sweep({ waitMs: 10_000 });
      expect(done.busy).toBeUndefined();
      expect(done.objects).toBeGreaterThan(0); // the junk commit, tree and blob
      expect(new TextDecoder().decode(await repo.readFile('slow', 'dir/slow.txt'))).toBe('stored by another process');
      await expect(readEverything(repo)).resolves.toBeGreaterThan(0);
    } finally {
      child.proc.kill('SIGKILL');
    }
  }, 90_000);

  it('expired ephemeral refs are removed once when two processes sweep at the same moment', async () => {
    const repo = await engine.createRepo('expire');
    const base = await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    for (let i = 0; i < 10; i++) await repo.createBranch(`e${i}`, base.sha, { space: 'ephemeral', ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const child = startChild(server.connectionString, 'expire', { kind: 'sweep' });
    try {
      expect(await child.line()).toBe('ready');
      expired = 0;
      child.send('go');
      const mine = await engine.sweep();
      const theirs = JSON.parse(await child.line());
      // Two processes that write their leader records at the same moment may both back off
      // (never both sweep): the next sweep then runs alone.
      const again = mine.skipped && theirs.skipped ? await engine.sweep() : { refs: 0 };
      expect(mine.refs + theirs.refs + again.refs).toBe(10);
      expect(expired + theirs.expired).toBe(10);
      expect(await repo.listBranches({ space: 'ephemeral' })).toEqual([]);
    } finally {
      child.proc.kill('SIGKILL');
    }
  }, 90_000);

  it('a sweep looping while two processes commit and rewind loses no reachable object', async () => {
    const repo = await engine.createRepo('sweep');
    await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const children = [1, 2].map((id) => startChild(server.connectionString, 'sweep', { kind: 'commits', id, count: 15 }));
    try {
      for (const c of children) expect(await c.line()).toBe('ready');
      for (const c of children) c.send('go');
      let running = true;
      const results = Promise.all(children.map(async (c) => JSON.parse(await c.line()))).finally(() => (running = false));
      let objects = 0;
      let sweeps = 0;
      while (running) {
        objects += (await repo.sweep({ waitMs: 2000 })).objects;
        sweeps++;
      }
      const [r1, r2] = await results;
      objects += (await repo.sweep({ waitMs: 10_000 })).objects;
      expect(sweeps).toBeGreaterThan(0);
      expect((await repo.refs.get('refs/heads/w1'))?.oid).toBe(r1.tip);
      expect((await repo.refs.get('refs/heads/w2'))?.oid).toBe(r2.tip);
      // Every commit kept (10 per writer) is there with all its files; the rewound ones went.
      expect((await repo.log('w1')).length).toBe(r1.commits);
      expect((await repo.log('w2')).length).toBe(r2.commits);
      await expect(readEverything(repo)).resolves.toBeGreaterThan(0);
      expect(objects).toBeGreaterThan(0);
    } finally {
      for (const c of children) c.proc.kill('SIGKILL');
    }
  }, 180_000);
});
