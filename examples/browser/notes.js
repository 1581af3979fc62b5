// What the app does with level-git, apart from the page: one repository in an IndexedDB
// database, commits of edited files, its history, the diff of a commit, and a clone of it by
// isomorphic-git. app.js draws the page around these functions.
import { Buffer } from 'buffer'; // the npm package: isomorphic-git wants a global Buffer in browsers
import { openEngine, createIsomorphicTransport, enableReview, getPlatform, NotFoundError } from 'level-git';
import { BrowserLevel } from 'browser-level';
import git from 'isomorphic-git';
import FS from '@isomorphic-git/lightning-fs';

globalThis.Buffer ??= Buffer;
enableReview(); // repo.diff (a chunk of its own, loaded on the first diff, where the bundler splits)

const REPO = 'notes';
const BRANCH = 'main';
// git's empty tree: the "before" side of a first commit's diff.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const text = (bytes) => new TextDecoder().decode(bytes);

/** Opens the engine on the IndexedDB database `dbName`; `repo` is undefined until `create`. */
export async function openNotes(dbName) {
  if (navigator.storage?.persist) await navigator.storage.persist().catch(() => false); // ask the browser not to evict it
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  let repo;
  try {
    repo = await engine.getRepo(REPO);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  return { engine, repo, dbName, platform: getPlatform().name };
}

/** Creates the repository with a first commit. */
export async function createNotes(notes, author) {
  notes.repo = await notes.engine.createRepo(REPO);
  await notes.repo.commit({
    branch: BRANCH,
    message: 'Start the notebook\n',
    author,
    changes: [
      { path: 'README.md', content: '# Notes\n\nKept in this browser, versioned by Git.\n' },
      { path: 'todo/today.md', content: '- water the plants\n- read a chapter\n' },
    ],
  });
}

/** The files of the branch tip, with their contents. */
export async function listFiles(notes) {
  const entries = await notes.repo.listTree(BRANCH, { recursive: true });
  const files = entries.filter((e) => e.type === 'blob');
  return Promise.all(files.map(async (e) => ({ path: e.path, content: text(await notes.repo.readFile(BRANCH, e.path)) })));
}

/** Commits `changes` (path → new content, or null to delete) on top of the tip the page last saw. */
export async function commitChanges(notes, changes, message, author, expectedHeadSha) {
  const list = [...changes].map(([path, content]) => (content === null ? { path, delete: true } : { path, content }));
  return notes.repo.commit({ branch: BRANCH, message: `${message.trim()}\n`, author, changes: list, expectedHeadSha });
}

/** The branch's history, newest first. */
export async function history(notes) {
  return notes.repo.log(BRANCH, { limit: 50 });
}

/** What a commit changed against its first parent: the files and the unified text `git diff` prints. */
export async function commitDiff(notes, commit) {
  const result = await notes.repo.diff(commit.parents[0] ?? EMPTY_TREE, commit.sha, { patch: true });
  return { files: result.files, patch: text(result.patch) };
}

/** Clones the repository with isomorphic-git into lightning-fs (a file system in IndexedDB), and reads the clone back. */
export async function cloneNotes(notes) {
  // A fresh clone each time: `wipe` empties the clone's file system (not the repository's database).
  const fs = new FS('notes-clones', { wipe: true });
  const dir = '/notes';
  const http = createIsomorphicTransport({ engine: notes.engine });
  await git.clone({ fs, http, dir, url: `http://local/${REPO}.git`, ref: BRANCH, singleBranch: true });
  const log = await git.log({ fs, dir });
  const files = await git.listFiles({ fs, dir });
  const contents = await Promise.all(files.map(async (path) => ({ path, bytes: (await fs.promises.readFile(`${dir}/${path}`)).length })));
  return { head: log[0].oid, commits: log.map((c) => c.commit.message.trim()), files: contents };
}
