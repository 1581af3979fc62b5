// A Service Worker that serves Git smart HTTP from a repository in IndexedDB: every request of
// the page under /git/ is answered by level-git's fetch handler, none reaches the network.
import { BrowserLevel } from 'browser-level';
import { createGitFetchHandler, NotFoundError, openEngine } from 'level-git';

const AUTHOR = { name: 'Service Worker', email: 'sw@example.com', timestamp: 1700000000, timezone: '+0000' };
let handler;

/** Opens the engine once, creating the repository with one commit on first use. */
function gitHandler() {
  handler ??= (async () => {
    const engine = await openEngine({ db: new BrowserLevel('level-git-sw') });
    try {
      await engine.getRepo('team/app');
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const repo = await engine.createRepo('team/app');
      await repo.commit({
        branch: 'main',
        message: 'from the service worker\n',
        author: AUTHOR,
        changes: [{ path: 'README.md', content: '# served by a Service Worker\n' }],
      });
    }
    return createGitFetchHandler({ engine, basePath: '/git' });
  })();
  return handler;
}

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (!new URL(event.request.url).pathname.startsWith('/git/')) return;
  event.respondWith(gitHandler().then((serve) => serve(event.request)));
});
