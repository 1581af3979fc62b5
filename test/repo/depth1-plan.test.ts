/**
 * Depth-1 plans (repo/depth1-plan.ts) through C git over HTTP: after a push (deltas within one
 * commit's tree included, an annotated tag on the tip) the plan of the branch's tip is stored,
 * `git clone --depth 1` is answered from it and passes `git fsck --strict` with the same objects
 * as a depth-1 clone of git's own repository; after a fast-forward push the new tip's plan answers.
 */
import { describe, expect, it } from 'vitest';
import { commitFiles } from '../http/helpers.js';
import { recordFor, recordServer, tipsOf as revParse } from './record-fixture.js';

const fx = recordServer('d1', { depth1Plans: { minObjects: 5 } });

const tipsOf = (refs: string[]) => revParse(fx.g, fx.work, refs);

/** `git clone --depth 1` of `url` into a fresh directory, checked; its objects, sorted. */
async function depth1Objects(url: string): Promise<string[]> {
  const dest = fx.dirs.make('d1-clone-');
  await fx.g.ok(['clone', '-q', '--bare', '--depth', '1', url, dest]);
  await fx.g.ok(['fsck', '--strict', '--no-dangling'], dest);
  const out = await fx.g.ok(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], dest);
  return out
    .split('\n')
    .filter((l) => l.length === 40)
    .sort();
}

describe('depth-1 plans', () => {
  it('answer git clone --depth 1 after a push, then after a fast-forward push', async () => {
    const repo = await fx.engine.getRepo('d1');
    const stats = fx.engine.packCache.stats;
    const [main] = await tipsOf(['main']);
    await recordFor(repo, 'depth1', [main!]);
    const served = stats.depth1Served;
    // What git's own depth-1 clone of the pushed repository holds (the tag v1 on main included).
    const expected = await depth1Objects(`file://${fx.work}`);
    expect(await depth1Objects(`${fx.url}/d1.git`)).toEqual(expected);
    expect(stats.depth1Served).toBe(served + 1);

    await commitFiles(fx.g, fx.work, { 'a.txt': 'after\n', 'new/n.txt': 'n\n' }, 'ff');
    await fx.g.ok(['push', '-q', `${fx.url}/d1.git`, 'main'], fx.work);
    const [moved] = await tipsOf(['main']);
    await recordFor(repo, 'depth1', [moved!]);
    expect(await depth1Objects(`${fx.url}/d1.git`)).toEqual(await depth1Objects(`file://${fx.work}`));
    expect(stats.depth1Served).toBe(served + 2);
  }, 120_000);
});
