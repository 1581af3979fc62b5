/**
 * The history workload's fixture from an existing repository (`--history-repo D[:B]`): branch B
 * of the repository at D, fetched once into a bare repository of the cache as `main` (git's own
 * pack-objects picks the objects and reuses the source's deltas), then described as the
 * generated history is. The id names the branch and its tip, so a moved branch is fetched anew.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gitOk } from '../../shared/exec.js';
import { type Fixture, REPO_CACHE } from '../fixtures/fixtures.js';
import { tipStats } from './generate.js';

/** The fixture of branch `branch` of the repository at `path`. */
export async function localHistory(path: string, branch: string): Promise<Fixture> {
  const source = resolve(path);
  const tip = await gitOk(['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], source);
  const name = `${basename(source)
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]/g, '-')}-${branch.replace(/\//g, '-')}`;
  const id = `history-${name}`;
  const dir = join(REPO_CACHE, `${id}-${tip.slice(0, 12)}`);
  const metaFile = join(dir, 'bench-fixture.json');
  if (existsSync(metaFile)) return { ...(JSON.parse(readFileSync(metaFile, 'utf8')) as Fixture), dir };
  rmSync(dir, { recursive: true, force: true });
  await gitOk(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  await gitOk(['fetch', '--quiet', '--no-tags', source, `${tip}:refs/heads/main`], dir);
  const { files, bytes, commits } = await tipStats(dir);
  const fixture: Fixture = { id, kind: 'history', label: `branch ${branch} of ${basename(source)}: ${commits} commits`, dir, files, bytes, commits };
  writeFileSync(metaFile, JSON.stringify(fixture, null, 2));
  return fixture;
}
