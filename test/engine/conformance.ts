/**
 * The conformance suite of the engine core, exported as a function over a factory (like
 * abstract-level's test suite): every storage backend runs the same tests. It covers
 * repositories, commits, reads, trees, log, branches and tags, ephemeral refs and promotion,
 * sweeps, ref transactions under concurrency, and (when the backend persists) reopening.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ZERO_OID, RefConflictError, type Engine, type Repository } from '../../src/index.js';
import { AUTHOR, countObjects, text, type EngineFactory, type EngineHandle } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function refsOf(repo: Repository): Promise<string> {
  return JSON.stringify([await repo.listRefs({ space: 'regular' }), await repo.listRefs({ space: 'ephemeral' })]);
}

/** Runs the whole suite for one backend. */
export function conformance(name: string, factory: EngineFactory): void {
  describe(`engine conformance: ${name}`, () => {
    let h: EngineHandle;
    let engine: Engine;
    beforeEach(async () => {
      h = await factory();
      engine = h.engine;
    });
    afterEach(async () => {
      vi.useRealTimers(); // a test that moved the clock
      await h.dispose();
    });

    const commit = (
      repo: Repository,
      branch: string,
      changes: Parameters<Repository['commit']>[0]['changes'],
      extra: Partial<Parameters<Repository['commit']>[0]> = {},
    ) => repo.commit({ branch, message: `change ${branch}`, author: AUTHOR, changes, ...extra });

    describe('repositories', () => {
      it('creates, gets, lists and deletes', async () => {
        const a = await engine.createRepo('alpha', { defaultBranch: 'trunk' });
        await engine.createRepo('team/project');
        await engine.createRepo('beta');
        expect(a.name).toBe('alpha');
        expect(a.info.defaultBranch).toBe('trunk');
        expect(await a.refs.head()).toBe('refs/heads/trunk');
        expect((await engine.getRepo('alpha')).name).toBe('alpha');
        expect((await engine.listRepos()).map((r) => r.name)).toEqual(['alpha', 'beta', 'team/project']);
        await engine.deleteRepo('beta');
        expect((await engine.listRepos()).map((r) => r.name)).toEqual(['alpha', 'team/project']);
        await expect(engine.getRepo('beta')).rejects.toMatchObject({ code: 'ERR_REPO_NOT_FOUND' });
        await expect(engine.deleteRepo('beta')).rejects.toMatchObject({ code: 'ERR_REPO_NOT_FOUND' });
        expect(await engine.findRepo('nope')).toBeUndefined();
      });

      it('refuses a taken name with RepoExistsError (409)', async () => {
        await engine.createRepo('demo');
        const err = await engine.createRepo('demo').catch((e) => e);
        expect(err).toMatchObject({ code: 'ERR_REPO_EXISTS', status: 409, name: 'RepoExistsError' });
        expect((await engine.listRepos()).length).toBe(1);
      });

      it('refuses invalid names and accepts one owner prefix', async () => {
        const bad = ['', '../x', 'x/..', 'a.git', 'A.GIT', 'a/b/c', '/abs', 'x/', '.hidden', 'sp ace', 'a\0b', 'x.lock', 'a'.repeat(101), 'é'];
        for (const n of bad) await expect(engine.createRepo(n), n).rejects.toMatchObject({ code: 'ERR_INVALID_REPO_NAME' });
        await expect(engine.createRepo(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_REPO_NAME' });
        expect(await engine.listRepos()).toEqual([]);
        for (const n of ['team/project', 'a', 'my-repo_1.x', 'Org/Repo.v2']) expect((await engine.createRepo(n)).name).toBe(n);
      });

      it('frees a deleted name, and the new repository starts empty', async () => {
        const r1 = await engine.createRepo('reuse');
        const c = await commit(r1, 'main', [{ path: 'a.txt', content: 'old data' }]);
        await r1.createTag('v1', 'main');
        await engine.deleteRepo('reuse');
        await expect(r1.readFile('main', 'a.txt')).rejects.toMatchObject({ code: 'ERR_REPO_NOT_FOUND' });
        const r2 = await engine.createRepo('reuse');
        expect(await r2.listRefs()).toEqual([]);
        expect(await countObjects(internalsOf(r2).objects)).toBe(0);
        await expect(r2.readObject(c.sha)).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
        await expect(r2.readFile(c.sha, 'a.txt')).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
      });

      it('creates one repository when many callers race for the same name', async () => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => engine.createRepo('race')));
        expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_REPO_EXISTS' });
        const many = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.createRepo(`many-${i}`)));
        await Promise.all(many.map((r, i) => commit(r, 'main', [{ path: 'id', content: String(i) }])));
        for (let i = 0; i < 20; i++) expect(text(await (await engine.getRepo(`many-${i}`)).readFile('main', 'id'))).toBe(String(i));
        expect((await engine.listRepos()).length).toBe(21);
      });

      it('answers ERR_CLOSED after close, and bad arguments with typed errors', async () => {
        await expect(engine.getRepo(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(engine.createRepo('x', { defaultBranch: 'bad..branch' })).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        expect(await engine.listRepos()).toEqual([]);
        const repo = await engine.createRepo('before-close');
        await engine.close();
        await expect(engine.createRepo('after')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
        await expect(engine.listRepos()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
        await expect(repo.listBranches()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
        await expect(commit(repo, 'main', [{ path: 'f', content: 'x' }])).rejects.toMatchObject({ code: 'ERR_CLOSED' });
        await engine.close(); // twice is fine
      });

      it('keeps repositories apart', async () => {
        const a = await engine.createRepo('a');
        const b = await engine.createRepo('b');
        const c = await commit(a, 'main', [{ path: 'f', content: 'only in a' }]);
        await expect(b.readObject(c.sha)).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
        await expect(b.refs.transaction([{ ref: 'refs/heads/x', newOid: c.sha }])).rejects.toMatchObject({ code: 'ERR_MISSING_OBJECTS' });
        expect(await b.listRefs()).toEqual([]);
      });
    });

    describe('commits', () => {
      let repo: Repository;
      beforeEach(async () => {
        repo = await engine.createRepo('demo', { defaultBranch: 'main' });
      });

      it('writes several files in nested directories and reads them at branch, tag and sha', async () => {
        const bin = new Uint8Array(300).map((_, i) => (i * 37) & 255);
        const c1 = await commit(repo, 'main', [
          { path: 'README.md', content: '# hi\n' },
          { path: 'src/a.ts', content: 'export const a = 1;\n' },
          { path: 'src/deep/er/b.ts', content: 'b' },
          { path: 'bin/data', content: bin },
          { path: 'run.sh', content: '#!/bin/sh\n', mode: '100755' },
          { path: 'empty', content: '' },
        ]);
        expect(c1.parents).toEqual([]);
        expect(c1.ref).toBe('refs/heads/main');
        expect(text(await repo.readFile('main', 'src/deep/er/b.ts'))).toBe('b');
        expect(await repo.readFile('refs/heads/main', 'bin/data')).toEqual(bin);
        expect(await repo.readFile(c1.sha, 'empty')).toEqual(new Uint8Array(0));
        expect(await repo.readFile(c1.sha.toUpperCase(), 'README.md')).toEqual(enc('# hi\n'));
        expect((await repo.readFileEntry('main', 'run.sh')).mode).toBe('100755');
        await repo.createTag('v1', 'main');
        const c2 = await commit(repo, 'main', [{ path: 'src/a.ts', content: 'export const a = 2;\n' }]);
        expect(c2.parents).toEqual([c1.sha]);
        expect(text(await repo.readFile('v1', 'src/a.ts'))).toBe('export const a = 1;\n');
        expect(text(await repo.readFile('refs/tags/v1', 'src/a.ts'))).toBe('export const a = 1;\n');
        expect(text(await repo.readFile('main', 'src/a.ts'))).toBe('export const a = 2;\n');
        expect(text(await repo.readFile('HEAD', 'src/a.ts'))).toBe('export const a = 2;\n');
        // Unchanged subtrees keep their ids.
        const t1 = await repo.listTree(c1.sha);
        const t2 = await repo.listTree(c2.sha);
        expect(t2.find((e) => e.path === 'bin')!.sha).toBe(t1.find((e) => e.path === 'bin')!.sha);
        expect(t2.find((e) => e.path === 'src')!.sha).not.toBe(t1.find((e) => e.path === 'src')!.sha);
      });

      it('reports missing paths, refs and objects with typed errors', async () => {
        const c = await commit(repo, 'main', [{ path: 'dir/f.txt', content: 'x' }]);
        await expect(repo.readFile('main', 'nope')).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
        await expect(repo.readFile('main', 'dir')).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
        await expect(repo.readFile('main', 'dir/f.txt/x')).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
        await expect(repo.readFile('nobranch', 'dir/f.txt')).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        await expect(repo.readFile('1'.repeat(40), 'dir/f.txt')).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
        await expect(repo.readFile('main', '../etc/passwd')).rejects.toMatchObject({ code: 'ERR_INVALID_PATH' });
        const tree = (await repo.listTree('main')).find((e) => e.path === 'dir')!.sha;
        await expect(repo.readFile(tree, 'f.txt')).rejects.toMatchObject({ code: 'ERR_INVALID_OBJECT' });
        expect(c.sha).toMatch(/^[0-9a-f]{40}$/);
      });

      it('deletes files, prunes emptied directories, changes modes', async () => {
        await commit(repo, 'main', [
          { path: 'a/b/c.txt', content: 'c' },
          { path: 'a/keep.txt', content: 'k' },
          { path: 'x.sh', content: 'echo', mode: '100644' },
        ]);
        const c2 = await commit(repo, 'main', [
          { path: 'a/b/c.txt', delete: true },
          { path: 'x.sh', content: 'echo', mode: '100755' },
        ]);
        const tree = await repo.listTree(c2.sha, { recursive: true });
        expect(tree.map((e) => `${e.mode} ${e.path}`)).toEqual(['040000 a', '100644 a/keep.txt', '100755 x.sh']);
        // A mode change without new content keeps the blob.
        const c3 = await commit(repo, 'main', [{ path: 'x.sh', content: 'echo', mode: '120000' }]);
        expect((await repo.readFileEntry(c3.sha, 'x.sh')).mode).toBe('120000');
        expect((await repo.readFileEntry(c3.sha, 'x.sh')).sha).toBe((await repo.readFileEntry(c2.sha, 'x.sh')).sha);
        // Without a mode, an existing file keeps its mode.
        const c4 = await commit(repo, 'main', [{ path: 'x.sh', content: 'echo 2' }]);
        expect((await repo.readFileEntry(c4.sha, 'x.sh')).mode).toBe('120000');
        // Deleting every file leaves an empty root tree.
        const c5 = await commit(repo, 'main', [
          { path: 'a/keep.txt', delete: true },
          { path: 'x.sh', delete: true },
        ]);
        expect(c5.tree).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
        expect(await repo.listTree('main', { recursive: true })).toEqual([]);
      });

      it('replaces a file with a directory and a directory with a file', async () => {
        await commit(repo, 'main', [
          { path: 'thing', content: 'a file' },
          { path: 'dir/inner.txt', content: 'inner' },
        ]);
        await commit(repo, 'main', [
          { path: 'thing/now/deep.txt', content: 'deep' },
          { path: 'dir', content: 'now a file' },
        ]);
        expect(text(await repo.readFile('main', 'thing/now/deep.txt'))).toBe('deep');
        expect(text(await repo.readFile('main', 'dir'))).toBe('now a file');
        const paths = (await repo.listTree('main', { recursive: true })).map((e) => e.path);
        expect(paths).toEqual(['dir', 'thing', 'thing/now', 'thing/now/deep.txt']);
      });

      it('starts a missing branch from baseBranch; an existing branch ignores it', async () => {
        const base = await commit(repo, 'main', [{ path: 'base.txt', content: 'base' }]);
        const f = await commit(repo, 'feature', [{ path: 'feat.txt', content: 'feat' }], { baseBranch: 'main' });
        expect(f.parents).toEqual([base.sha]);
        expect(text(await repo.readFile('feature', 'base.txt'))).toBe('base');
        const f2 = await commit(repo, 'feature', [{ path: 'feat.txt', content: 'feat2' }], { baseBranch: 'main' });
        expect(f2.parents).toEqual([f.sha]);
        const orphan = await commit(repo, 'orphan', [{ path: 'o.txt', content: 'o' }]);
        expect(orphan.parents).toEqual([]);
        await expect(commit(repo, 'x', [{ path: 'o.txt', content: 'o' }], { baseBranch: 'missing' })).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        expect((await repo.listBranches()).map((b) => b.name)).toEqual(['feature', 'main', 'orphan']);
      });

      it('checks expectedHeadSha: a stale value is a RefConflictError and nothing moves', async () => {
        const c1 = await commit(repo, 'main', [{ path: 'a', content: '1' }], { expectedHeadSha: ZERO_OID });
        const c2 = await commit(repo, 'main', [{ path: 'a', content: '2' }], { expectedHeadSha: c1.sha });
        const before = await countObjects(internalsOf(repo).objects);
        const refs = await refsOf(repo);
        const err = await commit(repo, 'main', [{ path: 'a', content: '3' }], { expectedHeadSha: c1.sha }).catch((e) => e);
        expect(err).toBeInstanceOf(RefConflictError);
        expect(err).toMatchObject({ code: 'ERR_REF_CONFLICT', status: 409 });
        await expect(commit(repo, 'main', [{ path: 'a', content: '3' }], { expectedHeadSha: ZERO_OID })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(commit(repo, 'new', [{ path: 'a', content: '3' }], { expectedHeadSha: c2.sha })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(commit(repo, 'main', [{ path: 'a', content: '3' }], { expectedHeadSha: 'nothex' })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
        expect(await refsOf(repo)).toBe(refs);
        expect(await countObjects(internalsOf(repo).objects)).toBe(before);
        expect(text(await repo.readFile('main', 'a'))).toBe('2');
      });

      it('refuses bad paths and bad input with typed errors and writes nothing', async () => {
        const c1 = await commit(repo, 'main', [{ path: 'ok.txt', content: 'ok' }]);
        const before = await countObjects(internalsOf(repo).objects);
        const refs = await refsOf(repo);
        const badPaths = [
          '..',
          '../x',
          'a/../b',
          '.git',
          '.git/config',
          'x/.GIT/hooks',
          '.Git',
          '.git.',
          'git~1/x',
          '/abs',
          'a//b',
          'a/',
          'nul\0byte',
          '',
          '.',
          'a\\b',
        ];
        for (const p of badPaths) {
          await expect(
            commit(repo, 'main', [
              { path: 'fine.txt', content: 'should not land' },
              { path: p, content: 'x' },
            ]),
            JSON.stringify(p),
          ).rejects.toMatchObject({
            code: 'ERR_INVALID_PATH',
          });
        }
        await expect(commit(repo, 'main', [{ path: 'x', content: 1 as unknown as string }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(commit(repo, 'main', [{ path: 'x', content: 'x', mode: '100666' }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(commit(repo, 'main', [{ path: 'x', content: 'x', mode: '40000' }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(
          commit(repo, 'main', [
            { path: 'x', content: 'a' },
            { path: 'x', content: 'b' },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(
          commit(repo, 'main', [
            { path: 'x', content: 'a' },
            { path: 'x/y', content: 'b' },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_INVALID_PATH' });
        await expect(commit(repo, 'main', [{ path: 'missing.txt', delete: true }])).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
        await expect(commit(repo, 'bad..name', [{ path: 'x', content: 'a' }])).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        await expect(repo.commit({ branch: 'main', message: 'm', author: { name: '', email: '' }, changes: [] })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
        await expect(commit(repo, 'eph', [{ path: 'x', content: 'eph' }], { space: 'ephemeral', ttlSeconds: 0 })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
        await expect(commit(repo, 'eph', [{ path: 'x', content: 'eph' }], { space: 'ephemeral', ttlSeconds: -5 })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
        await expect(repo.createTag('exists-check', 'nothing', { message: 'x' })).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        await expect(repo.commit(null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: 'x' as never })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
        expect(await refsOf(repo)).toBe(refs);
        expect(await countObjects(internalsOf(repo).objects)).toBe(before);
        expect((await repo.log('main')).map((l) => l.sha)).toEqual([c1.sha]);
      });

      it('lists trees, recursively or not, with sizes', async () => {
        await commit(repo, 'main', [
          { path: 'a.txt', content: 'aaa' },
          { path: 'd/b.txt', content: 'bbbbb' },
          { path: 'd/e/c.bin', content: new Uint8Array(1234) },
          { path: 'link', content: 'a.txt', mode: '120000' },
        ]);
        const top = await repo.listTree('main');
        expect(top.map((e) => [e.path, e.type, e.mode, e.size])).toEqual([
          ['a.txt', 'blob', '100644', 3],
          ['d', 'tree', '040000', undefined],
          ['link', 'blob', '120000', 5],
        ]);
        const all = await repo.listTree('main', { recursive: true });
        expect(all.map((e) => [e.path, e.size])).toEqual([
          ['a.txt', 3],
          ['d', undefined],
          ['d/b.txt', 5],
          ['d/e', undefined],
          ['d/e/c.bin', 1234],
          ['link', 5],
        ]);
        expect((await repo.listTree('main', { path: 'd' })).map((e) => e.path)).toEqual(['d/b.txt', 'd/e']);
        expect((await repo.listTree('main', { path: 'd/', recursive: true })).map((e) => e.path)).toEqual(['d/b.txt', 'd/e', 'd/e/c.bin']);
        await expect(repo.listTree('main', { path: 'a.txt' })).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
        await expect(repo.listTree('main', { path: 'zz' })).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
      });

      it('logs newest first with messages, parents and a limit', async () => {
        const shas: string[] = [];
        for (let i = 0; i < 5; i++) {
          const c = await repo.commit({
            branch: 'main',
            message: `commit ${i}`,
            author: { ...AUTHOR, timestamp: 1_700_000_000 + i * 10 },
            changes: [{ path: 'n', content: String(i) }],
          });
          shas.push(c.sha);
        }
        const log = await repo.log('main');
        expect(log.map((l) => l.sha)).toEqual([...shas].reverse());
        expect(log[0]!.message).toBe('commit 4\n');
        expect(log[0]!.parents).toEqual([shas[3]]);
        expect(log[0]!.author).toMatchObject({ name: AUTHOR.name, email: AUTHOR.email, timestamp: 1_700_000_040, timezone: '+0000' });
        expect((await repo.log('main', { limit: 2 })).map((l) => l.sha)).toEqual([shas[4], shas[3]]);
        expect((await repo.log(shas[1]!)).map((l) => l.sha)).toEqual([shas[1], shas[0]]);
        await expect(repo.log('main', { limit: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      });

      it('creates, lists and deletes branches and tags; annotated tags are peeled', async () => {
        const c1 = await commit(repo, 'main', [{ path: 'a', content: '1' }]);
        const c2 = await commit(repo, 'main', [{ path: 'a', content: '2' }]);
        await repo.createBranch('dev', c1.sha);
        await repo.createBranch('copy', 'main');
        await expect(repo.createBranch('dev', 'main')).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(repo.createBranch('bad name', 'main')).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        await expect(repo.createBranch('x', 'nothing')).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        expect(await repo.listBranches()).toEqual([
          { name: 'copy', sha: c2.sha },
          { name: 'dev', sha: c1.sha },
          { name: 'main', sha: c2.sha },
        ]);
        await repo.deleteBranch('copy');
        await expect(repo.deleteBranch('copy')).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        await expect(repo.deleteBranch('dev', { expectedSha: c2.sha })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        expect((await repo.listBranches()).map((b) => b.name)).toEqual(['dev', 'main']);

        const light = await repo.createTag('light', c1.sha);
        expect(light.sha).toBe(c1.sha);
        const ann = await repo.createTag('v2', 'main', { message: 'release 2', tagger: AUTHOR });
        expect(ann.sha).not.toBe(c2.sha);
        const tagObj = await repo.readObject(ann.sha);
        expect(tagObj.type).toBe('tag');
        expect(text(tagObj.body)).toContain(`object ${c2.sha}\ntype commit\ntag v2\n`);
        // A tag of the annotated tag peels through both.
        const nested = await repo.createTag('v2-again', 'v2', { message: 'nested' });
        expect(await repo.listTags()).toEqual([
          { name: 'light', sha: c1.sha },
          { name: 'v2', sha: ann.sha, peeled: c2.sha },
          { name: 'v2-again', sha: nested.sha, peeled: c2.sha },
        ]);
        expect(text(await repo.readFile('v2', 'a'))).toBe('2');
        expect(text(await repo.readFile('v2-again', 'a'))).toBe('2');
        expect(await repo.resolveCommit('v2')).toBe(c2.sha);
        const objectsBefore = await countObjects(internalsOf(repo).objects);
        await expect(repo.createTag('v2', 'main')).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(repo.createTag('v2', 'main', { message: 'again' })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(repo.createTag('bad..name', 'main', { message: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        expect(await countObjects(internalsOf(repo).objects)).toBe(objectsBefore);
        await repo.deleteTag('v2');
        await expect(repo.deleteTag('v2')).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        expect((await repo.listTags()).map((t) => t.name)).toEqual(['light', 'v2-again']);
      });

      it('keeps ephemeral commits and branches out of the regular view until promoted', async () => {
        const base = await commit(repo, 'main', [{ path: 'a', content: 'base' }]);
        const e1 = await commit(repo, 'main', [{ path: 'a', content: 'ephemeral' }], { space: 'ephemeral' });
        expect(e1.parents).toEqual([base.sha]);
        expect(e1.ephemeral).toBe(true);
        const e2 = await commit(repo, 'agent', [{ path: 'b', content: 'agent work' }], { space: 'ephemeral', baseBranch: 'main' });
        // The regular view sees nothing of it.
        expect(text(await repo.readFile('main', 'a'))).toBe('base');
        await expect(repo.readFile('agent', 'b')).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        expect((await repo.listBranches()).map((b) => b.name)).toEqual(['main']);
        expect((await repo.listRefs()).map(([r]) => r)).toEqual(['refs/heads/main']);
        expect(await repo.refs.get('refs/heads/agent')).toBeUndefined();
        // The ephemeral view sees it over the regular refs.
        expect(text(await repo.readFile('main', 'a', { view: 'ephemeral' }))).toBe('ephemeral');
        expect(text(await repo.readFile('agent', 'b', { view: 'ephemeral' }))).toBe('agent work');
        expect((await repo.listBranches({ space: 'ephemeral' })).map((b) => b.name)).toEqual(['agent', 'main']);
        expect((await repo.listRefs({ view: 'ephemeral' })).map(([r, v]) => [r, v.oid])).toEqual([
          ['refs/heads/agent', e2.sha],
          ['refs/heads/main', e1.sha],
        ]);
        // Ephemeral commits on top of ephemeral ones.
        const e3 = await commit(repo, 'agent', [{ path: 'b', content: 'more' }], { space: 'ephemeral' });
        expect(e3.parents).toEqual([e2.sha]);
        // Promotion moves the ref into the regular space and removes the ephemeral one.
        await expect(repo.promote({ baseBranch: 'agent', expectedTargetSha: base.sha })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        const p = await repo.promote({ baseBranch: 'agent' });
        expect(p).toEqual({ targetBranch: 'agent', sha: e3.sha });
        expect(text(await repo.readFile('agent', 'b'))).toBe('more');
        expect(await repo.refs.get('refs/heads/agent', { space: 'ephemeral' })).toBeUndefined();
        await expect(repo.promote({ baseBranch: 'agent' })).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
        // Promote onto another branch with a CAS check.
        const p2 = await repo.promote({ baseBranch: 'main', targetBranch: 'main', expectedTargetSha: base.sha });
        expect(p2.sha).toBe(e1.sha);
        expect(text(await repo.readFile('main', 'a'))).toBe('ephemeral');
        expect(await repo.listRefs({ space: 'ephemeral' })).toEqual([]);
      });

      it('sweeps expired ephemeral refs and unreachable objects, and nothing reachable', async () => {
        const keep = await commit(repo, 'main', [
          { path: 'shared.txt', content: 'shared between spaces' },
          { path: 'dir/main.txt', content: 'main only' },
        ]);
        await repo.createTag('v1', 'main', { message: 'annotated' });
        const live = await commit(repo, 'live', [{ path: 'live.txt', content: 'live ephemeral' }], {
          space: 'ephemeral',
          baseBranch: 'main',
          ttlSeconds: 3600,
        });
        // Expired below by moving the clock (Date only) past it, not by waiting: ten minutes, so
        // the first sweep runs long before it on any disk (and `live` outlives it by fifty).
        const goneTtlMs = 600_000;
        await commit(
          repo,
          'gone',
          [
            { path: 'gone/only.txt', content: 'expires soon' },
            { path: 'shared.txt', content: 'shared between spaces' },
          ],
          {
            space: 'ephemeral',
            baseBranch: 'main',
            ttlSeconds: goneTtlMs / 1000,
          },
        );
        const goneExpiresBy = Date.now() + goneTtlMs;
        // A branch made and deleted: its commit, root tree and blob are unreachable.
        await commit(repo, 'tmp', [{ path: 'orphan.txt', content: 'never referenced again' }]);
        await repo.deleteBranch('tmp');
        const before = await countObjects(internalsOf(repo).objects);
        // Nothing expired yet: only the three orphans go.
        const first = await engine.sweep();
        expect(first).toEqual({ refs: 0, objects: 3 });
        expect(await countObjects(internalsOf(repo).objects)).toBe(before - 3);
        // Past the expiry of `gone` (not of `live`, an hour later still), time running on from there.
        vi.useFakeTimers({ toFake: ['Date'], now: goneExpiresBy + 50, shouldAdvanceTime: true });
        expect((await repo.listBranches({ space: 'ephemeral' })).map((b) => b.name)).toEqual(['live']);
        const r = await engine.sweep();
        expect(r.refs).toBe(1);
        // The expired commit, its root tree, gone/ and gone/only.txt are gone; shared.txt is not.
        expect(r.objects).toBe(4);
        expect(await countObjects(internalsOf(repo).objects)).toBe(before - first.objects - 4);
        expect(await repo.listRefs({ space: 'ephemeral', prefix: 'refs/heads/gone' })).toEqual([]);
        // Everything reachable still reads.
        expect(text(await repo.readFile('main', 'shared.txt'))).toBe('shared between spaces');
        expect(text(await repo.readFile('main', 'dir/main.txt'))).toBe('main only');
        expect(text(await repo.readFile('v1', 'dir/main.txt'))).toBe('main only');
        expect(text(await repo.readFile('live', 'live.txt', { view: 'ephemeral' }))).toBe('live ephemeral');
        expect((await repo.log('live', { view: 'ephemeral' })).map((l) => l.sha)).toEqual([live.sha, keep.sha]);
        const again = await engine.sweep();
        expect(again).toEqual({ refs: 0, objects: 0 });
      });
    });

    describe('sweep racing writes', () => {
      it('commits started during a sweep keep every object', async () => {
        const repo = await engine.createRepo('race');
        const changes = Array.from({ length: 6000 }, (_, i) => ({ path: `d${i % 200}/e${i % 7}/f${i}.txt`, content: `file ${i}` }));
        await commit(repo, 'main', changes);
        for (const delay of [0, 2, 10, 30, 60, 120]) {
          const sweep = repo.sweep();
          await new Promise((r) => setTimeout(r, delay));
          const c = commit(repo, 'main', [{ path: `new${delay}/x.txt`, content: `racing ${delay}` }]);
          const [swept] = await Promise.all([sweep, c]);
          expect(swept.objects).toBe(0);
          expect(text(await repo.readFile('main', `new${delay}/x.txt`))).toBe(`racing ${delay}`);
        }
        // After the races, a full sweep finds nothing to remove and everything still reads.
        expect(await repo.sweep()).toEqual({ refs: 0, objects: 0 });
        expect((await repo.listTree('main', { recursive: true })).filter((e) => e.type === 'blob').length).toBe(6006);
      });
    });

    describe('ref transactions', () => {
      let repo: Repository;
      let shas: string[];
      beforeEach(async () => {
        repo = await engine.createRepo('tx');
        shas = [];
        for (let i = 0; i < 3; i++) shas.push((await commit(repo, `b${i}`, [{ path: 'f', content: String(i) }])).sha);
      });

      it('creates, moves and deletes refs with compare-and-swap', async () => {
        const [a, b] = shas as [string, string];
        const applied = await repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: ZERO_OID, newOid: a }]);
        expect(applied).toEqual([{ ref: 'refs/heads/new', space: 'regular', oldOid: ZERO_OID, newOid: a }]);
        await repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: a, newOid: b }]);
        expect((await repo.refs.get('refs/heads/new'))?.oid).toBe(b);
        await expect(repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: a, newOid: a }])).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: ZERO_OID, newOid: a }])).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: b, newOid: ZERO_OID }]);
        expect(await repo.refs.get('refs/heads/new')).toBeUndefined();
        await expect(repo.refs.transaction([{ ref: 'refs/heads/new', oldOid: b, newOid: ZERO_OID }])).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
      });

      it('rejects bad input with typed errors', async () => {
        const refs = await refsOf(repo);
        await expect(repo.refs.transaction([])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(repo.refs.transaction([{ ref: 'refs/heads/a..b', newOid: shas[0]! }])).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        await expect(repo.refs.transaction([{ ref: 'main', newOid: shas[0]! }])).rejects.toMatchObject({ code: 'ERR_INVALID_REF_NAME' });
        await expect(repo.refs.transaction([{ ref: 'refs/heads/x', newOid: 'xyz' }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        await expect(repo.refs.transaction([{ ref: 'refs/heads/x', newOid: 'f'.repeat(40) }])).rejects.toMatchObject({ code: 'ERR_MISSING_OBJECTS' });
        await expect(
          repo.refs.transaction([
            { ref: 'refs/heads/x', newOid: shas[0]! },
            { ref: 'refs/heads/x', newOid: shas[1]! },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        expect(await refsOf(repo)).toBe(refs);
      });

      it('changes nothing when one of three checks fails', async () => {
        const [a, b, c] = shas as [string, string, string];
        const refs = await refsOf(repo);
        await expect(
          repo.refs.transaction([
            { ref: 'refs/heads/b0', oldOid: a, newOid: b },
            { ref: 'refs/heads/brand-new', oldOid: ZERO_OID, newOid: c },
            { ref: 'refs/heads/b2', oldOid: a, newOid: ZERO_OID }, // b2 is at c: fails
          ]),
        ).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        expect(await refsOf(repo)).toBe(refs);
        // The same with the failure first, and with a missing object last.
        await expect(
          repo.refs.transaction([
            { ref: 'refs/heads/b2', oldOid: b, newOid: a },
            { ref: 'refs/heads/b0', oldOid: a, newOid: b },
            { ref: 'refs/heads/b1', oldOid: b, newOid: 'e'.repeat(40) },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        await expect(
          repo.refs.transaction([
            { ref: 'refs/heads/b0', oldOid: a, newOid: b },
            { ref: 'refs/heads/b1', oldOid: b, newOid: 'e'.repeat(40) },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_MISSING_OBJECTS' });
        expect(await refsOf(repo)).toBe(refs);
        // And all three applied when all three hold.
        await repo.refs.transaction([
          { ref: 'refs/heads/b0', oldOid: a, newOid: b },
          { ref: 'refs/heads/brand-new', oldOid: ZERO_OID, newOid: c },
          { ref: 'refs/heads/b2', oldOid: c, newOid: ZERO_OID },
        ]);
        expect((await repo.listBranches()).map((x) => [x.name, x.sha])).toEqual([
          ['b0', b],
          ['b1', b],
          ['brand-new', c],
        ]);
      });

      it('refuses a ref that would be a directory of another (refs/heads/a vs refs/heads/a/b), as git does', async () => {
        const [a] = shas as [string];
        await repo.refs.transaction([{ ref: 'refs/heads/x/y/z', newOid: a }]);
        const refs = await refsOf(repo);
        for (const ref of ['refs/heads/b0/sub', 'refs/heads/x', 'refs/heads/x/y', 'refs/heads/x/y/z/w']) {
          await expect(repo.refs.transaction([{ ref, newOid: a }]), ref).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        }
        await expect(
          repo.refs.transaction([
            { ref: 'refs/heads/p', newOid: a },
            { ref: 'refs/heads/p/q', newOid: a },
          ]),
        ).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        // An ephemeral branch may not shadow a regular one as a directory either.
        await expect(commit(repo, 'b1/agent', [{ path: 'f', content: 'e' }], { space: 'ephemeral' })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
        expect(await refsOf(repo)).toBe(refs);
        // Deleting the file-ref and creating the directory-ref in one transaction is fine.
        await repo.refs.transaction([
          { ref: 'refs/heads/b0', newOid: ZERO_OID },
          { ref: 'refs/heads/b0/sub', newOid: a },
        ]);
        expect((await repo.listBranches()).map((b) => b.name)).toEqual(['b0/sub', 'b1', 'b2', 'x/y/z']);
        await repo.createBranch('x/y/other', 'b1');
      });

      it('50 concurrent CAS updates from the same old value: exactly one wins', async () => {
        const [a] = shas as [string];
        const targets: string[] = [];
        for (let i = 0; i < 50; i++) targets.push((await commit(repo, 'side', [{ path: 'f', content: `side ${i}` }])).sha);
        const results = await Promise.allSettled(targets.map((t) => repo.refs.transaction([{ ref: 'refs/heads/b0', oldOid: a, newOid: t }])));
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won.length).toBe(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_REF_CONFLICT' });
        const winner = targets[results.findIndex((r) => r.status === 'fulfilled')]!;
        expect((await repo.refs.get('refs/heads/b0'))?.oid).toBe(winner);
      });

      it('30 concurrent commits without expectedHeadSha on one branch all land', async () => {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => commit(repo, 'busy', [{ path: `files/f${i}.txt`, content: `writer ${i}` }], { message: `writer ${i}` })),
        );
        const log = await repo.log('busy', { limit: 1000 });
        expect(log.length).toBe(30);
        expect(new Set(log.map((l) => l.sha))).toEqual(new Set(results.map((r) => r.sha)));
        // A straight line: each commit's parent is the next one in the log.
        for (let i = 0; i < log.length - 1; i++) expect(log[i]!.parents).toEqual([log[i + 1]!.sha]);
        const files = (await repo.listTree('busy', { path: 'files' })).map((e) => e.path);
        expect(files.length).toBe(30);
      });

      it('30 concurrent commits with the same expectedHeadSha: one lands, the rest conflict', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 30 }, (_, i) => commit(repo, 'b0', [{ path: 'f', content: `cas ${i}` }], { expectedHeadSha: shas[0] })),
        );
        expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RefConflictError);
        expect((await repo.log('b0')).length).toBe(2);
      });
    });

    describe('persistence', () => {
      it('survives close and reopen (refs, objects, HEAD, ephemeral refs)', async (ctx) => {
        if (!h.reopen) return ctx.skip();
        const repo = await engine.createRepo('keep', { defaultBranch: 'trunk' });
        const c1 = await commit(repo, 'trunk', [
          { path: 'a/b.txt', content: 'persisted' },
          { path: 'bin', content: new Uint8Array([0, 1, 2, 255]) },
        ]);
        await repo.createTag('v1', 'trunk', { message: 'tag' });
        const e = await commit(repo, 'agent', [{ path: 'e.txt', content: 'ephemeral' }], { space: 'ephemeral', baseBranch: 'trunk', ttlSeconds: 3600 });
        await repo.refs.setHead('other');
        const objects = await countObjects(internalsOf(repo).objects);
        const refs = await refsOf(repo);
        engine = await h.reopen();
        await expect(repo.readFile('trunk', 'a/b.txt')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
        const again = await engine.getRepo('keep');
        expect(again.info.defaultBranch).toBe('trunk');
        expect(await refsOf(again)).toBe(refs);
        expect(await countObjects(internalsOf(again).objects)).toBe(objects);
        expect(await again.refs.head()).toBe('refs/heads/other');
        expect(text(await again.readFile('trunk', 'a/b.txt'))).toBe('persisted');
        expect(await again.readFile('v1', 'bin')).toEqual(new Uint8Array([0, 1, 2, 255]));
        expect(text(await again.readFile('agent', 'e.txt', { view: 'ephemeral' }))).toBe('ephemeral');
        const eph = await again.refs.get('refs/heads/agent', { space: 'ephemeral' });
        expect(eph?.oid).toBe(e.sha);
        expect(eph!.expiresAt! - Date.now()).toBeGreaterThan(3500 * 1000);
        expect((await again.listTags())[0]!.peeled).toBe(c1.sha);
        // New writes after reopen get fresh repository ids and do not collide.
        const other = await engine.createRepo('second');
        await commit(other, 'main', [{ path: 'x', content: 'y' }]);
        expect((await engine.listRepos()).map((r) => r.name)).toEqual(['keep', 'second']);
        expect(await countObjects(internalsOf(again).objects)).toBe(objects);
      });
    });
  });
}
