/**
 * `level-git import <name> <url>`: creates a repository in a data folder (or a PostgreSQL
 * database) and fetches another Git server's repository into it through `repo.fetchFrom`, with
 * git's progress lines on stderr (cli/progress.ts). It opens the database itself, so over a data
 * folder the server must be stopped (LevelDB allows one process); over `--db` servers may run.
 * The default branch is chosen as `git clone` does (the branch `--ref` names, else the remote's
 * HEAD); a failed import deletes the repository it created.
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openEngine, type Engine } from '../engine.js';
import { type AnyLevel, VIEW_DEFAULTS } from '../storage/kv.js';
import type { RefLock } from '../refs/lock.js';
import type { FetchProgress } from '../repo/remotes.js';
import { enableRemotes } from '../webhooks/enable.js';
import { secureDataFolder } from './data-folder.js';
import { ProgressLine, type ProgressOptions } from './progress.js';

/** Options of `runImport`. */
export interface ImportOptions {
  name: string;
  url: string;
  /** Data folder (default `./data`), or `database` (postgres://…). */
  data?: string;
  database?: string;
  ref?: string;
  depth?: number;
  defaultBranch?: string;
  allowPrivateRemotes?: boolean;
  /** Where progress goes; undefined: none. */
  progress?: ProgressOptions;
  log?: (line: string) => void;
}

/** What an import did (printed as JSON by the command). */
export interface ImportSummary {
  name: string;
  defaultBranch: string;
  refs: { ref: string; oid: string }[];
  objects: number;
  shallow: number;
  protocol: 0 | 2;
  seconds: number;
}

/** Runs an import; see the module comment. */
export async function runImport(o: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const { engine, close } = await openDatabase(o);
  try {
    const remotes = engine.remotes;
    if (remotes === undefined) throw new Error('this engine has no remote client');
    // As git clone: the default branch is the one fetched (`ref`, a branch), else the remote's HEAD.
    let initial = o.defaultBranch;
    if (initial === undefined) {
      const listing = await remotes.lsRemote(o.url, {});
      const picked = o.ref === undefined ? listing.head : listing.refs.find((r) => r.ref === o.ref || r.ref === `refs/heads/${o.ref}`)?.ref;
      if (picked?.startsWith('refs/heads/')) initial = picked.slice('refs/heads/'.length);
    }
    const repo = await engine.createRepo(o.name, initial !== undefined ? { defaultBranch: initial } : {});
    const watch = o.progress === undefined ? undefined : progressReporter(o.progress);
    try {
      const r = await repo.fetchFrom(o.url, {
        ...(o.ref !== undefined ? { ref: o.ref } : {}),
        ...(o.depth !== undefined ? { depth: o.depth } : {}),
        setHead: o.defaultBranch === undefined,
        ...(watch !== undefined ? { onProgress: watch.report } : {}),
      });
      watch?.finish(r.objects);
      return {
        name: o.name,
        defaultBranch: repo.info.defaultBranch,
        refs: r.refs,
        objects: r.objects,
        shallow: r.shallow.length,
        protocol: r.protocol,
        seconds: (Date.now() - started) / 1000,
      };
    } catch (err) {
      watch?.abort();
      await engine.deleteRepo(o.name).catch(() => undefined);
      throw err;
    }
  } finally {
    await close();
  }
}

/** Progress lines of a fetch: "Receiving objects" while the pack arrives, then "Storing objects". */
function progressReporter(options: ProgressOptions) {
  const receiving = new ProgressLine('Receiving objects', options);
  let storing: ProgressLine | undefined;
  let last: FetchProgress | undefined;
  return {
    report(p: FetchProgress): void {
      last = p;
      if (p.phase === 'receiving') receiving.update(p.objects, p.total, p.bytes);
      else if (storing === undefined) {
        receiving.done(p.objects, p.total, p.bytes);
        // Connectivity checks, the writes and the refs: one line when it ends.
        storing = new ProgressLine('Storing objects', options);
      }
    },
    finish(objects: number): void {
      if (storing === undefined) receiving.done(objects, last?.total, last?.bytes);
      storing?.done(objects);
    },
    abort(): void {
      if (options.tty && last !== undefined) options.write('\n');
    },
  };
}

/** Opens the engine over the data folder's database, or over PostgreSQL (`database`). */
async function openDatabase(o: ImportOptions): Promise<{ engine: Engine; close(): Promise<void> }> {
  enableRemotes();
  let db: AnyLevel;
  let lock: (RefLock & { close(): Promise<void> }) | undefined;
  if (o.database !== undefined) {
    const { createPostgresLevel, PostgresRefLock } = await import('../postgres/index.js');
    db = createPostgresLevel({ connectionString: o.database }) as unknown as AnyLevel;
    lock = new PostgresRefLock({ connectionString: o.database });
  } else {
    const dir = resolve(o.data ?? './data');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const w of secureDataFolder(dir)) o.log?.(w);
    const { Level } = await import('level');
    db = new Level(join(dir, 'db'), VIEW_DEFAULTS) as unknown as AnyLevel;
  }
  try {
    await db.open();
  } catch (err) {
    await lock?.close();
    const busy = /LOCK|lock/.test(String((err as { cause?: unknown }).cause ?? err));
    throw new Error(busy ? `the database in ${resolve(o.data ?? './data')} is in use: stop the server first (or import through --db)` : String(err));
  }
  const engine = await openEngine({
    db,
    ...(lock !== undefined ? { lock, coordination: 'database' as const } : {}),
    allowPrivateRemotes: o.allowPrivateRemotes === true,
  });
  return {
    engine,
    async close() {
      await engine.close();
      await db.close();
      await lock?.close();
    },
  };
}
