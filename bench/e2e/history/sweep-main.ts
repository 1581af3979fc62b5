/**
 * One `engine.sweep()` over an on-disk database, in its own process so the history workload
 * can bound it (timeout, heap limit) and read its cost: wall time, CPU (this process, all
 * threads) and peak RSS of the sweep alone (VmHWM reset after the engine opened).
 *
 * Then the sweep an agent platform pays every interval: one commit on an ephemeral branch of
 * the first repository, made through the API, expires, and the next sweep removes it (`again`:
 * time, CPU, refs and objects removed).
 *
 * Then the first full clone of the swept history, in this process without HTTP (the pack
 * `git clone` asks for, read to its end): its clone plan dropped first, so it is made from the
 * mark record the sweep wrote (`firstClone.fromMark`), then both dropped, so it is planned from
 * nothing (`firstClone.planned`), as the bench's first full clone right after the push is.
 *
 * usage: node [--max-old-space-size=N] --import tsx bench/e2e/history/sweep-main.ts --data <dir>
 * Prints one JSON line: {"openMs","ms","cpuMs","peakRssKb","refs","objects","again","firstClone"} or {"error"}.
 */
import { readPeakRssKb, resetPeakRss } from '../../shared/proc.js';

interface Repo {
  listBranches(): Promise<{ sha: string }[]>;
  listTags(): Promise<{ sha: string }[]>;
  commit(o: {
    branch: string;
    baseBranch: string;
    space: 'ephemeral';
    ttlSeconds: number;
    message: string;
    author: { name: string; email: string };
    changes: { path: string; content: string }[];
  }): Promise<{ sha: string }>;
  refs: { head(): Promise<string | undefined> };
}

interface Engine {
  sweep(o?: { waitMs?: number }): Promise<{ refs: number; objects: number; busy?: number; failed?: number; errors?: { repo: string; error: unknown }[] }>;
  listRepos(): Promise<{ name: string }[]>;
  getRepo(name: string): Promise<Repo>;
  close(): Promise<void>;
  packCache: { stats: { planFromMark: number } };
}

/** One first full clone's pack in this process: time, CPU, whether its plan came from the mark record. */
interface CloneCost {
  ms: number;
  cpuMs: number;
  fromMark: boolean;
}

/** The first full clone of the first repository, from the mark record, then planned from nothing. */
async function firstClones(engine: Engine): Promise<{ fromMark: CloneCost; planned: CloneCost }> {
  // Paths built at run time (see main).
  const internalsPath = '../../../src/repo/internals.js';
  const storePath = '../../../src/repo/full-pack-store.js';
  type Internals = {
    objects: { kv: unknown; repoId: number };
    fetchPack(i: { wants: string[]; ofsDelta: boolean }): Promise<{ pack: AsyncIterable<Uint8Array> }>;
  };
  const { internalsOf } = (await import(internalsPath)) as { internalsOf: (r: Repo) => Internals };
  const { collect, importRecordKey } = (await import(storePath)) as {
    collect: (kv: unknown, pool: number, drop: () => boolean, kind: string) => Promise<unknown>;
    importRecordKey: (pool: number) => Uint8Array;
  };
  const [info] = await engine.listRepos();
  if (info === undefined) throw new Error('no repository');
  const repo = await engine.getRepo(info.name);
  const internals = internalsOf(repo);
  const { kv, repoId } = internals.objects;
  const wants = [...new Set([...(await repo.listBranches()).map((b) => b.sha), ...(await repo.listTags()).map((t) => t.sha)])];
  const clone = async (): Promise<CloneCost> => {
    const marks = engine.packCache.stats.planFromMark;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for await (const _ of (await internals.fetchPack({ wants, ofsDelta: true })).pack);
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, fromMark: engine.packCache.stats.planFromMark > marks };
  };
  await collect(kv, repoId, () => true, 'plan');
  const fromMark = await clone();
  await collect(kv, repoId, () => true, 'plan');
  await collect(kv, repoId, () => true, 'mark');
  // Nor from the import record (import-plan.ts): planned from nothing, the walk of the history.
  await (kv as { batch(ops: { type: 'del'; key: Uint8Array }[]): Promise<void> }).batch([{ type: 'del', key: importRecordKey(repoId) }]);
  const planned = await clone();
  return { fromMark, planned };
}

/** An ephemeral commit on the first repository's default branch, expired, then swept. */
async function sweepAfterExpiry(engine: Engine): Promise<{ ms: number; cpuMs: number; refs: number; objects: number }> {
  const [info] = await engine.listRepos();
  if (info === undefined) throw new Error('no repository');
  const repo = await engine.getRepo(info.name);
  const head = (await repo.refs.head()) ?? 'refs/heads/main';
  await repo.commit({
    branch: 'bench-sandbox',
    baseBranch: head.replace(/^refs\/heads\//, ''),
    space: 'ephemeral',
    ttlSeconds: 1,
    message: 'an agent turn',
    author: { name: 'bench', email: 'bench@example.com' },
    changes: [{ path: 'bench-sandbox.txt', content: `turn at ${Date.now()}\n` }],
  });
  await new Promise((r) => setTimeout(r, 1100));
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const r = await engine.sweep({ waitMs: 1000 });
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, refs: r.refs, objects: r.objects };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--data');
  const data = at > 0 ? process.argv[at + 1] : undefined;
  if (data === undefined) throw new Error('missing --data');
  // A path built at run time, as level-git-main.ts does: the bench type-checks without the engine.
  const indexPath = '../../../src/index.js';
  const { openEngine } = (await import(indexPath)) as { openEngine: (o: { path: string; packCache?: { maxBytes: number; warm: boolean } }) => Promise<Engine> };
  const t0 = performance.now();
  const engine = await openEngine({ path: data, packCache: { maxBytes: 0, warm: false } });
  const openMs = performance.now() - t0;
  resetPeakRss(process.pid);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await engine.sweep({ waitMs: 1000 });
  const ms = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const peakRssKb = readPeakRssKb(process.pid);
  const again = await sweepAfterExpiry(engine);
  const firstClone = await firstClones(engine);
  await engine.close();
  const failed = r.errors?.map((e) => `${e.repo}: ${String((e.error as Error)?.message ?? e.error)}`).join('; ');
  console.log(
    JSON.stringify({
      openMs,
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssKb,
      refs: r.refs,
      objects: r.objects,
      again,
      firstClone,
      ...(r.busy ? { busy: r.busy } : {}),
      ...(failed ? { error: failed } : {}),
    }),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.log(JSON.stringify({ error: String((e as Error)?.message ?? e) }));
    process.exit(1);
  },
);
