/**
 * The engine's sweep over every repository, one after the other: a repository whose sweep fails
 * (a broken object) is counted, reported and passed over, never stopping the others; one
 * deleted meanwhile is skipped; the engine closing ends it.
 */
import { isLevelGitError } from './errors.js';
import type { Kv } from './storage/kv.js';
import { TAG } from './storage/keys.js';
import { firstIdFrom } from './storage/orphans.js';
import { readAllSweepStates } from './repo/sweep-state.js';
import type { EngineSweepOptions, EngineSweepResult } from './engine-options.js';
import type { Repository } from './repo/repository.js';

/** What the sweep needs of the engine: the repositories to sweep, each opened on its turn (undefined: deleted meanwhile). */
export interface SweepSource {
  repos(): Promise<{ name: string; open(): Promise<Repository | undefined> }[]>;
}

/** Sweeps every repository of `source` (`check` throws once the engine is closed). */
export async function sweepRepositories(source: SweepSource, check: () => void, options: EngineSweepOptions): Promise<EngineSweepResult> {
  const { onError, ...sweepOptions } = options;
  let refs = 0;
  let objects = 0;
  let busy = 0;
  const errors: { repo: string; error: unknown }[] = [];
  for (const { name, open } of await source.repos()) {
    check();
    try {
      const repo = await open();
      if (!repo) continue;
      const r = await repo.sweep(sweepOptions);
      refs += r.refs;
      objects += r.objects;
      if (r.busy) busy++;
    } catch (error) {
      // Deleted meanwhile: nothing to sweep, nothing failed.
      if (isLevelGitError(error, 'ERR_REPO_NOT_FOUND')) continue;
      if (isLevelGitError(error, 'ERR_CLOSED')) throw error;
      errors.push({ repo: name, error });
      try {
        onError?.(error, name);
      } catch {
        // A failing reporter must not stop the sweep either.
      }
    }
  }
  const result: EngineSweepResult = { refs, objects };
  if (busy > 0) result.busy = busy;
  if (errors.length > 0) {
    result.failed = errors.length;
    result.errors = errors;
  }
  return result;
}

/**
 * Which repositories a sweep has work in, from two key scans over every repository: a pool
 * never swept or with a marker (`W`, sweep-state.ts: its objects are walked), or a repository
 * with ephemeral refs (`E`: some may have expired). Every other one would only read its state
 * and list nothing: the engine's sweep passes over it without opening it, so an idle tick over
 * 100,000 repositories costs these scans, not 100,000 repositories' reads.
 */
export async function sweepWork(kv: Kv): Promise<(repoId: number, poolId: number) => boolean> {
  const { baseline, marked } = await readAllSweepStates(kv);
  // One key read per repository that has ephemeral refs: from each, the scan skips to the next id.
  const ephemeral = new Set<number>();
  let id = await firstIdFrom(kv, TAG.ephemeral, 0);
  while (id !== undefined) {
    ephemeral.add(id);
    id = id === 0xffffffff ? undefined : await firstIdFrom(kv, TAG.ephemeral, id + 1);
  }
  return (repoId, poolId) => ephemeral.has(repoId) || !baseline.has(poolId) || marked.has(poolId);
}
