/**
 * The engine's sweep over every repository, one after the other: a repository whose sweep fails
 * (a broken object) is counted, reported and passed over, never stopping the others; one
 * deleted meanwhile is skipped; the engine closing ends it.
 */
import { isLevelGitError } from './errors.js';
import type { EngineSweepOptions, EngineSweepResult } from './engine-options.js';
import type { RepoInfo, Repository } from './repo/repository.js';

/** What the sweep needs of the engine. */
export interface SweepSource {
  listRepos(): Promise<RepoInfo[]>;
  findRepo(name: string): Promise<Repository | undefined>;
}

/** Sweeps every repository of `source` (`check` throws once the engine is closed). */
export async function sweepRepositories(source: SweepSource, check: () => void, options: EngineSweepOptions): Promise<EngineSweepResult> {
  const { onError, ...sweepOptions } = options;
  let refs = 0;
  let objects = 0;
  let busy = 0;
  const errors: { repo: string; error: unknown }[] = [];
  for (const info of await source.listRepos()) {
    check();
    try {
      const repo = await source.findRepo(info.name);
      if (!repo) continue;
      const r = await repo.sweep(sweepOptions);
      refs += r.refs;
      objects += r.objects;
      if (r.busy) busy++;
    } catch (error) {
      // Deleted meanwhile: nothing to sweep, nothing failed.
      if (isLevelGitError(error, 'ERR_REPO_NOT_FOUND')) continue;
      if (isLevelGitError(error, 'ERR_CLOSED')) throw error;
      errors.push({ repo: info.name, error });
      try {
        onError?.(error, info.name);
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
