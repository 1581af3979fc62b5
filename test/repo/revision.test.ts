/**
 * The one short-name rule (git's rev-parse order) and the one tag peeler with its one limit.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { MAX_TAG_CHAIN, peel, refCandidates } from '../../src/repo/revision.js';
import { internalsOf } from '../../src/repo/internals.js';
import { encodeTag } from '../../src/object/commit.js';

const AUTHOR = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };

describe('refCandidates', () => {
  it('follows git rev-parse order: exact, refs/<name> when accepted, tags, heads', () => {
    expect(refCandidates('HEAD')).toEqual(['HEAD']);
    expect(refCandidates('refs/heads/main')).toEqual(['refs/heads/main']);
    expect(refCandidates('v1')).toEqual(['refs/tags/v1', 'refs/heads/v1']);
    expect(refCandidates('v1', { refsPrefix: true })).toEqual(['refs/v1', 'refs/tags/v1', 'refs/heads/v1']);
  });
});

describe('peel', () => {
  it('follows a chain of tags to its object, and stops at the limit', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('tags');
    const { sha } = await repo.commit({ branch: 'main', message: 'c', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const objects = internalsOf(repo).objects;
    const writer = objects.writer();
    const chain = [sha];
    for (let i = 0; i < MAX_TAG_CHAIN + 2; i++) {
      const target = chain.at(-1)!;
      chain.push(writer.add('tag', encodeTag({ object: target, type: i === 0 ? 'commit' : 'tag', tag: `t${i}`, tagger: AUTHOR, message: 'm\n' })));
    }
    await writer.flush();
    const [short, long, plain] = await peel(objects, [chain[3]!, chain.at(-1)!, sha]);
    expect(short).toEqual({ oid: sha, type: 'commit', tags: [chain[3], chain[2], chain[1]] });
    expect(plain).toEqual({ oid: sha, type: 'commit', tags: [] });
    // Longer than the limit: the chain ends at a tag (it names no commit).
    expect(long!.type).toBe('tag');
    expect(long!.tags).toHaveLength(MAX_TAG_CHAIN - 1);
    await expect(internalsOf(repo).peelToCommit(chain.at(-1)!)).rejects.toMatchObject({ code: 'ERR_INVALID_OBJECT' });
    expect(await internalsOf(repo).peelToCommit(chain[5]!)).toBe(sha);
    await engine.close();
  });

  it('resolves a name that is both a tag and a branch to the tag, as git does', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('both');
    const one = await repo.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'a', content: '1' }] });
    const two = await repo.commit({ branch: 'main', message: 'two', author: AUTHOR, changes: [{ path: 'a', content: '2' }] });
    await repo.createBranch('x', one.sha);
    await repo.createTag('x', two.sha);
    expect(await repo.resolve('x')).toBe(two.sha);
    expect(await repo.resolve('heads/x').catch((e) => e.code)).toBe('ERR_REF_NOT_FOUND');
    expect(await repo.resolve('refs/heads/x')).toBe(one.sha);
    await engine.close();
  });
});
