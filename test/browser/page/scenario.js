// The browser scenario, written as an application would: the package by its name, browser-level
// for storage, isomorphic-git for the clone. Runs in the page and in a Web Worker alike.
// the npm package 'buffer' (a browser app's dependency), not Node's module
import { Buffer } from 'buffer';
import { openEngine, createIsomorphicTransport, getPlatform } from 'level-git';
import { BrowserLevel } from 'browser-level';
import git from 'isomorphic-git';
import { createMemoryFs } from './memory-fs.js';

// isomorphic-git expects a global Buffer in browsers (its documented requirement, not level-git's).
globalThis.Buffer ??= Buffer;

const AUTHOR = { name: 'Browser Test', email: 'browser@example.com', timestamp: 1700000000, timezone: '+0000' };
const text = (bytes) => new TextDecoder().decode(bytes);

async function cloneFiles(engine) {
  const fs = createMemoryFs();
  const dir = '/clone';
  await git.clone({ fs, http: createIsomorphicTransport({ engine }), dir, url: 'http://local/team/app.git', ref: 'main', singleBranch: true, depth: 1 });
  const log = await git.log({ fs, dir, depth: 10 });
  return {
    readme: await fs.promises.readFile(`${dir}/README.md`, 'utf8'),
    nested: await fs.promises.readFile(`${dir}/src/deep/file.txt`, 'utf8'),
    head: log[0].oid,
    shallowLog: log.length,
  };
}

/** Creates the repository with two commits, reads it back and clones it at depth 1. */
export async function create(dbName) {
  const started = performance.now();
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  try {
    const repo = await engine.createRepo('team/app');
    const first = await repo.commit({
      branch: 'main',
      message: 'first\n',
      author: AUTHOR,
      changes: [
        { path: 'README.md', content: '# hello\n' },
        { path: 'src/deep/file.txt', content: 'one\n' },
        { path: 'bin/data', content: new Uint8Array([0, 1, 2, 255]) },
      ],
    });
    const second = await repo.commit({
      branch: 'main',
      message: 'second\n',
      author: AUTHOR,
      expectedHeadSha: first.sha,
      changes: [
        { path: 'src/deep/file.txt', content: 'two\n' },
        { path: 'bin/data', delete: true },
      ],
    });
    const clone = await cloneFiles(engine);
    return {
      platform: getPlatform().name,
      first: first.sha,
      head: second.sha,
      readme: text(await repo.readFile('main', 'README.md')),
      nested: text(await repo.readFile('main', 'src/deep/file.txt')),
      oldNested: text(await repo.readFile(first.sha, 'src/deep/file.txt')),
      log: (await repo.log('main')).map((e) => e.message.trim()),
      clone,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await engine.close();
  }
}

/** Reopens the same database (after a reload, or in a fresh engine) and reads everything back. */
export async function reopen(dbName) {
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  try {
    const repo = await engine.getRepo('team/app');
    return {
      head: await repo.resolve('main'),
      readme: text(await repo.readFile('main', 'README.md')),
      nested: text(await repo.readFile('main', 'src/deep/file.txt')),
      log: (await repo.log('main')).map((e) => e.message.trim()),
      clone: await cloneFiles(engine),
    };
  } finally {
    await engine.close();
  }
}

/** A full isomorphic-git clone, a commit in it, and a push back through the same transport. */
export async function pushBack(dbName) {
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  try {
    const fs = createMemoryFs();
    const http = createIsomorphicTransport({ engine });
    const dir = '/full';
    const url = 'http://local/team/app.git';
    await git.clone({ fs, http, dir, url, ref: 'main', singleBranch: true });
    const fullLog = (await git.log({ fs, dir })).length;
    await fs.promises.writeFile(`${dir}/pushed.txt`, 'from isomorphic-git\n');
    await git.add({ fs, dir, filepath: 'pushed.txt' });
    const oid = await git.commit({ fs, dir, message: 'pushed\n', author: AUTHOR });
    const push = await git.push({ fs, http, dir, url, ref: 'main' });
    const repo = await engine.getRepo('team/app');
    return {
      fullLog,
      pushed: oid,
      ok: push.ok,
      head: await repo.resolve('main'),
      content: text(await repo.readFile('main', 'pushed.txt')),
      log: (await repo.log('main')).map((e) => e.message.trim()),
    };
  } finally {
    await engine.close();
  }
}

/** What `openEngine({ path })` says in a browser bundle. */
export async function pathError() {
  try {
    await openEngine({ path: 'somewhere' });
    return 'opened';
  } catch (err) {
    return String(err.message);
  }
}
