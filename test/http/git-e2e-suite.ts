/**
 * End-to-end suite: the real `git` binary against createNodeHandler in http.createServer.
 * Runs over any engine (the fake git-dir backend, then the real engine) through `EngineFixture`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHandler } from '../../src/http/node-handler.js';
import type { GitHttpEngine } from '../../src/http/git-http.js';
import { commitFiles, gitRunner, startServer, tempDirs } from './helpers.js';

/** What the suite needs from an engine under test. */
export interface EngineFixture {
  engine: GitHttpEngine;
  /** Creates an empty repository (HEAD → refs/heads/main). */
  createRepo(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Registers the suite. */
export function gitE2ESuite(label: string, makeFixture: () => Promise<EngineFixture>): void {
  describe(`git over smart HTTP (${label})`, () => {
    const tmp = tempDirs();
    let fixture: EngineFixture;
    let server: { url: string; close(): Promise<void> };
    let g: ReturnType<typeof gitRunner>;
    let work: string;
    const commits: string[] = [];

    beforeAll(async () => {
      fixture = await makeFixture();
      server = await startServer(createNodeHandler({ engine: fixture.engine, basePath: '/git' }));
      const home = tmp.make();
      g = gitRunner(home);
      await fixture.createRepo('team/app');
      work = tmp.make();
      await g.ok(['init', '-q', '-b', 'main', work]);
      for (let i = 1; i <= 3; i++) commits.push(await commitFiles(g, work, { 'README.md': `v${i}\n`, [`dir/f${i}.txt`]: `file ${i}\n` }, `commit ${i}`));
      await g.ok(['tag', '-a', 'v1', '-m', 'release 1', commits[0]!], work);
      await g.ok(['remote', 'add', 'origin', `${server.url}/git/team/app.git`], work);
    });

    afterAll(async () => {
      await server?.close();
      await fixture?.close();
      tmp.cleanup();
    });

    it('pushes into an empty repository (v0 push, report-status)', async () => {
      const r = await g.run(['push', '-u', 'origin', 'main', 'v1'], work);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('* [new branch]      main -> main');
      expect(r.stderr).toContain('* [new tag]         v1 -> v1');
      const remote = await g.ok(['ls-remote', 'origin'], work);
      expect(remote).toContain(`${commits[2]}\tHEAD`);
      expect(remote).toContain(`${commits[2]}\trefs/heads/main`);
      expect(remote).toMatch(/\trefs\/tags\/v1\^\{\}/);
    });

    for (const version of [0, 1, 2]) {
      it(`clones --depth 1 --single-branch with protocol.version=${version}`, async () => {
        const dest = join(tmp.make(), 'c');
        const r = await g.run(
          ['-c', `protocol.version=${version}`, 'clone', '-q', '--depth', '1', '--single-branch', `${server.url}/git/team/app.git`, dest],
          undefined,
          { GIT_TRACE_PACKET: '0' },
        );
        expect(r.code, r.stderr).toBe(0);
        const tip = commits[commits.length - 1]!;
        expect(readFileSync(join(dest, 'README.md'), 'utf8')).toBe(`v${commits.length}\n`);
        expect(await g.ok(['rev-parse', 'HEAD'], dest)).toBe(tip);
        expect(await g.ok(['rev-list', '--count', 'HEAD'], dest)).toBe('1');
        expect(readFileSync(join(dest, '.git', 'shallow'), 'utf8').trim()).toBe(tip);
        await g.ok(['fsck', '--no-progress'], dest);
      });

      it(`full clone and fetch after a new push with protocol.version=${version}`, async () => {
        const dest = join(tmp.make(), 'c');
        await g.ok(['-c', `protocol.version=${version}`, 'clone', '-q', `${server.url}/git/team/app.git`, dest]);
        expect(await g.ok(['rev-list', '--count', 'HEAD'], dest)).toBe(String(commits.length));
        expect(await g.ok(['tag', '-l'], dest)).toContain('v1');
        await g.ok(['fsck', '--no-progress'], dest);
        // Another client pushes; this clone fetches with haves (negotiation).
        commits.push(await commitFiles(g, work, { 'README.md': `v${commits.length + 1}\n` }, `commit ${commits.length + 1}`));
        await g.ok(['push', '-q', 'origin', 'main'], work);
        const f = await g.run(['-c', `protocol.version=${version}`, 'fetch', 'origin'], dest);
        expect(f.code, f.stderr).toBe(0);
        expect(await g.ok(['rev-parse', 'origin/main'], dest)).toBe(commits[commits.length - 1]);
        await g.ok(['fsck', '--no-progress'], dest);
      });
    }

    it('a shallow clone pushes, fetches and deepens', async () => {
      const dest = join(tmp.make(), 'c');
      await g.ok(['clone', '-q', '--depth', '1', '--single-branch', `${server.url}/git/team/app.git`, dest]);
      const mine = await commitFiles(g, dest, { 'agent.txt': 'step 1\n' }, 'agent step');
      const p = await g.run(['push', 'origin', 'HEAD:refs/heads/agent'], dest);
      expect(p.code, p.stderr).toBe(0);
      expect(await g.ok(['ls-remote', 'origin', 'refs/heads/agent'], work)).toContain(mine);
      await g.ok(['fetch', '-q', '--deepen', '2'], dest);
      // One fetched tip plus our commit, then two more behind the old boundary.
      expect(Number(await g.ok(['rev-list', '--count', 'HEAD'], dest))).toBe(4);
      await g.ok(['fetch', '-q', '--unshallow'], dest);
      expect(existsSync(join(dest, '.git', 'shallow'))).toBe(false);
      expect(Number(await g.ok(['rev-list', '--count', 'HEAD'], dest))).toBe(commits.length + 1);
    });

    it('pushes a new branch, deletes it, and pushes atomically', async () => {
      await g.ok(['branch', '-f', 'feature', commits[1]!], work);
      let r = await g.run(['push', 'origin', 'feature'], work);
      expect(r.code, r.stderr).toBe(0);
      expect(await g.ok(['ls-remote', 'origin', 'refs/heads/feature'], work)).toContain(commits[1]);
      r = await g.run(['push', 'origin', '--delete', 'feature'], work);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('[deleted]');
      expect(await g.ok(['ls-remote', 'origin', 'refs/heads/feature'], work)).toBe('');
      await g.ok(['branch', '-f', 'a1', commits[0]!], work);
      await g.ok(['branch', '-f', 'a2', commits[1]!], work);
      r = await g.run(['push', '--atomic', 'origin', 'a1', 'a2'], work);
      expect(r.code, r.stderr).toBe(0);
      const refs = await g.ok(['ls-remote', 'origin', 'refs/heads/a*'], work);
      expect(refs).toContain(`${commits[0]}\trefs/heads/a1`);
      expect(refs).toContain(`${commits[1]}\trefs/heads/a2`);
    });

    it('rejects a non-fast-forward without force, accepts it with --force', async () => {
      await g.ok(['branch', '-f', 'nf', commits[1]!], work);
      await g.ok(['push', '-q', 'origin', 'nf'], work);
      await g.ok(['branch', '-f', 'nf', commits[0]!], work);
      const r = await g.run(['push', 'origin', 'nf'], work);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/rejected|non-fast-forward/);
      const f = await g.run(['push', '--force', 'origin', 'nf'], work);
      expect(f.code, f.stderr).toBe(0);
      expect(await g.ok(['ls-remote', 'origin', 'refs/heads/nf'], work)).toContain(commits[0]);
    });

    it('answers 404 for an unknown repository and keeps serving', async () => {
      const r = await g.run(['ls-remote', `${server.url}/git/team/nope.git`]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/not found|404/i);
      expect(await g.ok(['ls-remote', 'origin', 'refs/heads/main'], work)).toContain(commits[commits.length - 1]);
    });

    it('partial clone with --filter=blob:none', async () => {
      const dest = join(tmp.make(), 'c');
      const r = await g.run(['clone', '-q', '--filter=blob:none', '--no-checkout', `${server.url}/git/team/app.git`, dest]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('filtering not recognized');
      const missing = await g.ok(['rev-list', '--objects', '--missing=print', 'HEAD'], dest);
      expect(missing).toMatch(/^\?[0-9a-f]{40}/m);
    });
  });
}
