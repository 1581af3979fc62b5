// The page: registers the Service Worker, then clones from it, commits and pushes back with
// isomorphic-git's own fetch-based HTTP client, as it would talk to any Git server.
import { Buffer } from 'buffer';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/web';
import { createMemoryFs } from './memory-fs.js';

globalThis.Buffer ??= Buffer;
const AUTHOR = { name: 'Page', email: 'page@example.com', timestamp: 1700000100, timezone: '+0000' };

async function controlled() {
  // A module worker: the ESM bundle keeps `import.meta` (or bundle it with --format=iife).
  await navigator.serviceWorker.register('./sw.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) await new Promise((ok) => navigator.serviceWorker.addEventListener('controllerchange', ok, { once: true }));
}

async function clone(dir, fs) {
  await git.clone({ fs, http, dir, url: `${location.origin}/git/team/app.git`, ref: 'main', singleBranch: true });
  return (await git.log({ fs, dir })).map((c) => c.commit.message.trim());
}

/** Clone, commit, push, and a second clone that must see the push. */
async function cloneCommitPush() {
  await controlled();
  const fs = createMemoryFs();
  const log = await clone('/one', fs);
  const readme = await fs.promises.readFile('/one/README.md', 'utf8');
  await fs.promises.writeFile('/one/page.txt', 'pushed from the page\n');
  await git.add({ fs, dir: '/one', filepath: 'page.txt' });
  const pushed = await git.commit({ fs, dir: '/one', message: 'from the page\n', author: AUTHOR });
  const push = await git.push({ fs, http, dir: '/one', url: `${location.origin}/git/team/app.git`, ref: 'main' });
  const again = createMemoryFs();
  const secondLog = await clone('/two', again);
  return {
    log,
    readme,
    pushed,
    ok: push.ok,
    secondLog,
    page: await again.promises.readFile('/two/page.txt', 'utf8'),
    head: (await git.log({ fs: again, dir: '/two', depth: 1 }))[0].oid,
  };
}

globalThis.swTest = { cloneCommitPush };
document.getElementById('status').textContent = 'ready';
