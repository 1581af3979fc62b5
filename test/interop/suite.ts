/**
 * The foreign-client scenarios: one client (pygit2, dulwich or go-git) clones, fetches and
 * pushes against level-git and against C git's `git http-backend` serving the same history.
 * Each scenario's outcome — the refs and ids the client ended with, the bytes of its files, the
 * server's refs after a push and `git fsck --strict` of a C git clone of them, or the client's
 * error message — is compared: level-git must give exactly what http-backend gives (the ground
 * truth, so a failure that is the client's own shows against both), and both must give what a
 * user relies on. Commits made during a scenario have fixed dates, so their ids match across
 * the two servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gitRunner, tempDirs } from '../http/helpers.js';
import type { Engine } from '../../src/index.js';
import type { ForeignClient } from './clients.js';
import { startLevelGit, startReference, type InteropServer } from './servers.js';

/** Dates of every commit and tag the suite makes: ids are then the same on both servers. */
const FIXED = { GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z', GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z' };
const EPOCH = Date.parse(FIXED.GIT_AUTHOR_DATE) / 1000;
/** A test waits for its outcome, queued behind others: generous for a loaded CI machine. */
const TEST_MS = 120_000;

/** What a scenario left, compared between the servers; `error` only when the client failed. */
export interface Outcome {
  error?: string;
  /** Refs in the client's repository (for-each-ref), and what its HEAD resolves to. */
  refs?: Record<string, string>;
  head?: string;
  /** path → "mode blob-id" of the client's checked-out files. */
  files?: Record<string, string>;
  /** Shallow boundary the client recorded, and the commits reachable from HEAD. */
  shallow?: string[];
  commits?: number;
  /** `git fsck --strict` of the client's repository or of a C git clone of the pushed result. */
  fsck?: string;
  /** The server's refs (ls-remote) after a push. */
  server?: Record<string, string>;
  /** The commit the client pushed. */
  pushed?: string;
}

/** True when the environment says CI (a missing client is then a failure, not a skip). */
export function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** Thrown by a client step that failed; the scenario's outcome is its message. */
class ClientFailed extends Error {}

/** The blob id git would give `bytes`. */
function blobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** path → "mode blob-id" for every file under `dir` outside `.git`. */
function worktreeFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (d === dir && name === '.git') continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${st.mode & 0o100 ? '100755' : '100644'} ${blobId(readFileSync(p))}`;
    }
  };
  walk(dir);
  return out;
}

/** Runs at most `n` of the functions given to it at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Registers the scenarios for `client`. */
export function foreignClientSuite(client: ForeignClient): void {
  if (client.missing !== undefined && !isCi()) {
    describe.skip(`foreign client ${client.name} (not installed: ${client.missing})`, () => {
      it('is not installed', () => {});
    });
    return;
  }
  describe(`foreign client: ${client.missing === undefined ? client.version : client.name}`, () => {
    if (client.missing !== undefined) {
      it('is installed (CI needs every foreign client: see .ci/run)', () => {
        throw new Error(client.missing);
      });
      return;
    }
    const tmp = tempDirs();
    const home = tmp.make('lg-interop-home-');
    const g = gitRunner(home);
    /** C git with the fixed dates; returns trimmed stdout. */
    const git = (args: string[], cwd?: string) => g.ok(args, cwd, FIXED);
    const ids: Record<string, string> = {};
    let src: string;
    let chainSrc: string;
    let lg: InteropServer & { engine: Engine };
    let ref: InteropServer;

    /** Writes files (executable when the path ends in .sh) and commits them with the fixed date. */
    async function commit(dir: string, files: Record<string, string | Buffer>, message: string): Promise<string> {
      for (const [p, body] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), body);
        if (p.endsWith('.sh')) chmodSync(join(dir, p), 0o755);
      }
      await git(['add', '-A'], dir);
      await git(['commit', '-q', '-m', message], dir);
      return git(['rev-parse', 'HEAD'], dir);
    }

    /** path → "mode blob-id" of `rev` in the C git repository `dir`. */
    async function treeFiles(dir: string, rev: string): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const line of (await git(['ls-tree', '-r', rev], dir)).split('\n')) {
        const m = /^(\d+) blob ([0-9a-f]{40})\t(.*)$/.exec(line);
        if (m) out[m[3]!] = `${m[1]} ${m[2]}`;
      }
      return out;
    }

    /** The refs of a repository no scenario writes to, read once per server. */
    const readOnlyRefs = new Map<string, Promise<Record<string, string>>>();
    function refsOf(url: string): Promise<Record<string, string>> {
      let p = readOnlyRefs.get(url);
      if (p === undefined) readOnlyRefs.set(url, (p = lsRemote(url)));
      return p;
    }

    async function lsRemote(url: string): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const line of (await git(['ls-remote', url])).split('\n')) {
        const [id, name] = line.split('\t');
        if (id && name) out[name] = id;
      }
      return out;
    }

    /** `git fsck --strict` of `dir`: 'ok' or what it printed. */
    async function fsck(dir: string): Promise<string> {
      const r = await g.run(['fsck', '--strict', '--no-progress'], dir);
      return r.code === 0 ? 'ok' : `exit ${r.code}: ${r.stderr.trim()}`;
    }

    /** `git fsck --strict` of a fresh C git mirror clone of the server's repository. */
    async function fsckOfServer(url: string): Promise<string> {
      const dir = join(tmp.make('lg-interop-check-'), 'm.git');
      await git(['clone', '-q', '--mirror', url, dir]);
      return fsck(dir);
    }

    /** Runs one client command; a failure ends the scenario with its (normalized) message. */
    async function step(s: InteropServer, stage: string, args: string[], dir: string): Promise<void> {
      const r = await client.run(args, home);
      if (!r.ok) throw new ClientFailed(`${stage}: ${r.error.split(s.origin).join('<server>').split(dir).join('<dir>')}`);
    }

    /** What C git reads in the client's repository `dir`. */
    async function inspect(dir: string, bare: boolean): Promise<Outcome> {
      const refs: Record<string, string> = {};
      for (const line of (await git(['for-each-ref', '--format=%(objectname) %(refname)'], dir)).split('\n')) {
        const [id, name] = line.split(' ');
        if (id && name) refs[name] = id;
      }
      const head = await g.run(['rev-parse', '--verify', '-q', 'HEAD'], dir);
      const shallowFile = join(dir, bare ? '' : '.git', 'shallow');
      const out: Outcome = { refs, head: head.stdout.toString().trim() };
      if (!bare) out.files = worktreeFiles(dir);
      if (existsSync(shallowFile)) out.shallow = readFileSync(shallowFile, 'utf8').trim().split('\n').sort();
      if (out.head !== '') out.commits = Number(await git(['rev-list', '--count', 'HEAD'], dir));
      return out;
    }

    async function clone(s: InteropServer, repo: string, options: string[] = []): Promise<string> {
      const dir = join(tmp.make('lg-interop-'), 'c');
      await step(s, 'clone', ['clone', s.url(repo), dir, ...options], dir);
      return dir;
    }

    /** A scenario: what it does on one server, and what must hold of its outcome. */
    interface Scenario {
      name: string;
      shallow?: boolean;
      run(s: InteropServer): Promise<Outcome>;
      check(o: Outcome, s: InteropServer): Promise<void>;
    }

    /** A clone checks out the server's main, with every branch and any tag at the server's ids. */
    async function expectCloneOf(o: Outcome, s: InteropServer, repo: string, files: Record<string, string>): Promise<void> {
      const server = await refsOf(s.url(repo));
      expect(o.error).toBeUndefined();
      expect(o.head).toBe(server['refs/heads/main']);
      for (const [name, id] of Object.entries(server)) {
        if (name.startsWith('refs/heads/')) expect(o.refs?.[`refs/remotes/origin/${name.slice(11)}`], name).toBe(id);
      }
      for (const [name, id] of Object.entries(o.refs ?? {})) if (name.startsWith('refs/tags/')) expect(id, name).toBe(server[name]);
      expect(o.files).toEqual(files);
    }

    const scenarios: Scenario[] = [
      {
        name: 'full clone',
        run: async (s) => inspect(await clone(s, 'base'), false),
        check: async (o, s) => {
          await expectCloneOf(o, s, 'base', await treeFiles(src, 'main'));
          expect(o.commits).toBe(3);
        },
      },
      {
        name: 'shallow clone (depth 1)',
        shallow: true,
        run: async (s) => inspect(await clone(s, 'base', ['--depth', '1']), false),
        check: async (o, s) => {
          await expectCloneOf(o, s, 'base', await treeFiles(src, 'main'));
          expect(o.commits).toBe(1);
          expect(o.shallow).toContain(ids.main);
        },
      },
      {
        name: 'bare clone',
        run: async (s) => {
          const dir = await clone(s, 'base', ['--bare']);
          return { ...(await inspect(dir, true)), fsck: await fsck(dir) };
        },
        check: async (o, s) => {
          expect(o.error).toBeUndefined();
          expect(o.head).toBe(ids.main);
          expect(o.fsck).toBe('ok');
          const have = new Set(Object.values(o.refs ?? {}));
          for (const [name, id] of Object.entries(await refsOf(s.url('base')))) if (name.startsWith('refs/heads/')) expect(have.has(id), name).toBe(true);
        },
      },
      {
        name: 'fetch of new commits',
        run: async (s) => {
          const dir = await clone(s, 'fetch');
          await git(['push', '-q', s.url('fetch'), 'next:refs/heads/main'], src);
          await step(s, 'fetch', ['fetch', dir], dir);
          const o = await inspect(dir, false);
          return { refs: o.refs, fsck: await fsck(dir) };
        },
        check: async (o) => {
          expect(o.error).toBeUndefined();
          expect(o.refs?.['refs/remotes/origin/main']).toBe(ids.next);
          expect(o.fsck).toBe('ok');
        },
      },
      {
        name: 'push of new commits and a new branch',
        run: async (s) => {
          const dir = await clone(s, 'push');
          const pushed = await commit(dir, { 'pushed.txt': 'from a foreign client\n', 'README.md': 'hello, pushed\n' }, 'pushed by a foreign client');
          await step(s, 'push', ['push', dir, 'refs/heads/main:refs/heads/main', 'refs/heads/main:refs/heads/topic'], dir);
          return { pushed, server: await lsRemote(s.url('push')), fsck: await fsckOfServer(s.url('push')) };
        },
        check: async (o) => {
          expect(o.error).toBeUndefined();
          expect(o.server?.['refs/heads/main']).toBe(o.pushed);
          expect(o.server?.['refs/heads/topic']).toBe(o.pushed);
          expect(o.server?.['refs/heads/feature']).toBe(ids.feature);
          expect(o.fsck).toBe('ok');
        },
      },
      {
        name: 'branch delete',
        run: async (s) => {
          const dir = await clone(s, 'delete');
          await step(s, 'push', ['push', dir, ':refs/heads/feature'], dir);
          return { server: await lsRemote(s.url('delete')) };
        },
        check: async (o) => {
          expect(o.error).toBeUndefined();
          expect(o.server?.['refs/heads/feature']).toBeUndefined();
          expect(o.server?.['refs/heads/main']).toBe(ids.main);
        },
      },
      {
        name: 'force push',
        run: async (s) => {
          const dir = await clone(s, 'force');
          await git(['reset', '-q', '--hard', 'HEAD~1'], dir);
          const pushed = await commit(dir, { 'rewritten.txt': 'history rewritten\n' }, 'rewrite main');
          await step(s, 'push', ['push', dir, '+refs/heads/main:refs/heads/main'], dir);
          return { pushed, server: await lsRemote(s.url('force')), fsck: await fsckOfServer(s.url('force')) };
        },
        check: async (o) => {
          expect(o.error).toBeUndefined();
          expect(o.server?.['refs/heads/main']).toBe(o.pushed);
          expect(o.fsck).toBe('ok');
        },
      },
      {
        name: 'clone of an empty repository',
        run: async (s) => inspect(await clone(s, 'empty'), false),
        check: async (o) => {
          // libgit2 clones an empty repository. go-git refuses with the error its callers test
          // for; dulwich 0.21 fails on its own (it needs a HEAD to check out), as against C git.
          if (o.error !== undefined) expect(o.error).toMatch(/^clone: (remote repository is empty|ValueError: neither origin_head nor branch are provided)$/);
          else expect({ refs: o.refs, files: o.files }).toEqual({ refs: {}, files: {} });
        },
      },
      {
        name: 'clone of a file edited three times through the library (stored deltas chained)',
        run: async (s) => inspect(await clone(s, 'chain'), false),
        check: async (o, s) => {
          await expectCloneOf(o, s, 'chain', await treeFiles(chainSrc, 'main'));
          expect(o.commits).toBe(4);
        },
      },
    ];

    const active = scenarios.filter((sc) => client.shallow || !sc.shallow);

    /**
     * One outcome per scenario and server, shared by the two tests that need it. Every
     * scenario uses its own repositories and directories, so the outcomes are computed a few
     * at a time as soon as the setup is done (the tests only wait for theirs): the work is
     * mostly process start-up and round trips, which overlap well even on two cores.
     */
    const outcomes = new Map<string, Promise<Outcome>>();
    const outcome = (sc: Scenario, s: InteropServer): Promise<Outcome> => {
      const key = `${sc.name}\0${s.label}`;
      let p = outcomes.get(key);
      if (p === undefined) {
        p = limit(() => sc.run(s)).catch((e: unknown) => {
          if (e instanceof ClientFailed) return { error: e.message };
          throw e;
        });
        // Awaited by the scenario's tests; a rejection meanwhile is not unhandled.
        p.catch(() => {});
        outcomes.set(key, p);
      }
      return p;
    };
    const limit = limiter(4);

    /**
     * The source history: main (three commits, an executable, a binary, a nested dir and a
     * name with a space), feature off its second commit, next two commits ahead of main, an
     * annotated and a lightweight tag.
     */
    async function buildSource(): Promise<void> {
      src = tmp.make('lg-interop-src-');
      await git(['init', '-q', '-b', 'main', src]);
      const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + (i >> 7)) % 256));
      const app = (v: number) => Array.from({ length: 60 }, (_, i) => `export const value${i} = ${i * v}; // line ${i} of the app`).join('\n') + '\n';
      ids.c1 = await commit(
        src,
        {
          'README.md': 'hello\n',
          'src/app.ts': app(1),
          'bin/run.sh': '#!/bin/sh\necho run\n',
          'data.bin': binary,
          'docs/a b.md': 'a file name with a space\n',
        },
        'first',
      );
      ids.c2 = await commit(src, { 'src/app.ts': app(2), 'docs/guide.md': '# Guide\n' }, 'second');
      await git(['tag', '-a', 'v1', '-m', 'release 1'], src);
      await git(['tag', 'light', ids.c1], src);
      ids.main = await commit(src, { 'README.md': 'hello, world\n' }, 'third');
      await git(['checkout', '-q', '-b', 'feature', ids.c2], src);
      ids.feature = await commit(src, { 'feature.txt': 'a feature\n' }, 'feature');
      await git(['checkout', '-q', '-b', 'next', 'main'], src);
      await commit(src, { 'src/app.ts': app(3) }, 'next one');
      ids.next = await commit(src, { 'next.txt': 'next\n' }, 'next two');
      await git(['checkout', '-q', 'main'], src);
    }

    beforeAll(async () => {
      const work = tmp.make('lg-interop-build-');
      const [l, r] = await Promise.all([
        startLevelGit(tmp.make('lg-interop-db-')),
        startReference(tmp.make('lg-interop-ref-')),
        client.prepare(work),
        buildSource(),
      ]);
      lg = l;
      ref = r;
      await Promise.all(
        [lg, ref].flatMap((s) => [
          s.createEmpty('empty'),
          ...['base', 'fetch', 'push', 'delete', 'force'].map(async (repo) => {
            await s.createEmpty(repo);
            await git(['push', '-q', s.url(repo), 'main', 'feature', 'v1', 'light'], src);
          }),
        ]),
      );

      // The chained-delta repository: one file edited three times by library commits (each
      // version stored as a delta of the one before), mirrored to http-backend by C git.
      const chain = await lg.engine.createRepo('chain');
      const lines = Array.from({ length: 120 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog`);
      for (let v = 0; v < 4; v++) {
        await chain.commit({
          branch: 'main',
          message: v === 0 ? 'create the notes' : `edit ${v} of the notes`,
          author: { name: 'Test', email: 'test@example.com', timestamp: EPOCH + v, timezone: '+0000' },
          changes: [
            { path: 'notes/log.md', content: lines.map((l, i) => (i % 40 === v ? `${l} (edit ${v})` : l)).join('\n') + '\n' },
            ...(v === 0 ? [{ path: 'README.md', content: 'chain\n' }] : []),
          ],
        });
      }
      chainSrc = join(tmp.make('lg-interop-chain-'), 'chain.git');
      await git(['clone', '-q', '--mirror', lg.url('chain'), chainSrc]);
      await ref.createEmpty('chain');
      await git(['push', '-q', '--mirror', ref.url('chain')], chainSrc);

      for (const sc of active) for (const s of [ref, lg]) void outcome(sc, s);
    }, 300_000);

    afterAll(async () => {
      await Promise.all([lg?.close(), ref?.close()]);
      tmp.cleanup();
    });

    it('the chained-delta repository is served with a delta whose base is itself a delta', async () => {
      // C git keeps the pack as it came: verify-pack shows each delta's depth in the chain.
      const packDir = join(chainSrc, 'objects', 'pack');
      const packs = readdirSync(packDir).filter((f) => f.endsWith('.idx'));
      expect(packs.length).toBe(1);
      const verify = await git(['verify-pack', '-v', join(packDir, packs[0]!)], chainSrc);
      expect(verify).toMatch(/^chain length = [2-9]: \d+ objects?$/m);
    });

    for (const sc of active) {
      describe(sc.name, () => {
        it(
          'against git http-backend (the reference)',
          async () => {
            await sc.check(await outcome(sc, ref), ref);
          },
          TEST_MS,
        );
        it(
          'against level-git, with the same outcome as against git http-backend',
          async () => {
            const [mine, reference] = await Promise.all([outcome(sc, lg), outcome(sc, ref)]);
            expect(mine).toEqual(reference);
            await sc.check(mine, lg);
          },
          TEST_MS,
        );
      });
    }
  });
}
