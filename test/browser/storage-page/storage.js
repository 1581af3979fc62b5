// Bad input on IndexedDB, as an application meets it: the origin's quota running out during a
// commit and during a pack ingest, and two tabs writing the same database at once.
import { openEngine, InProcessLock } from 'level-git';
import { BrowserLevel } from 'browser-level';
import { MemoryLevel } from 'memory-level';

const AUTHOR = { name: 'Tab', email: 'tab@example.com', timestamp: 1700000000, timezone: '+0000' };
const text = (bytes) => new TextDecoder().decode(bytes);

/** Incompressible bytes (deflate cannot shrink them under the quota). */
function noise(n, seed) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function countKeys(db) {
  let n = 0;
  for await (const _ of db.keys({ keyEncoding: 'view' })) n++;
  return n;
}

function describe(err) {
  return { name: err?.name, code: err?.code, message: String(err?.message), reason: err?.details?.reason, cause: err?.cause?.name };
}

/** A repository with one small commit; returns its head. */
async function setUp(dbName) {
  await BrowserLevel.destroy(dbName);
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  try {
    const repo = await engine.createRepo('app');
    const c = await repo.commit({ branch: 'main', message: 'first\n', author: AUTHOR, changes: [{ path: 'README.md', content: 'hello\n' }] });
    return { head: c.sha, usage: (await navigator.storage.estimate()).usage };
  } finally {
    await engine.close();
  }
}

/** A commit of `megabytes` of incompressible files, then what the database shows. */
async function bigCommit(dbName, megabytes) {
  const db = new BrowserLevel(dbName);
  const engine = await openEngine({ db });
  try {
    const repo = await engine.getRepo('app');
    const before = await countKeys(db);
    const changes = Array.from({ length: megabytes }, (_, i) => ({ path: `big/${i}.bin`, content: noise(1024 * 1024, i + 1) }));
    let error = null;
    try {
      await repo.commit({ branch: 'main', message: 'big\n', author: AUTHOR, changes });
    } catch (err) {
      error = describe(err);
    }
    const log = (await repo.log('main')).map((e) => e.message.trim());
    let bigFile = 'absent';
    try {
      await repo.readFile('main', 'big/0.bin');
      bigFile = 'present';
    } catch (err) {
      bigFile = err.code;
    }
    return { error, before, after: await countKeys(db), log, bigFile, readme: text(await repo.readFile('main', 'README.md')) };
  } finally {
    await engine.close();
  }
}

/** A pack of `megabytes` of incompressible files (built on memory-level) stored with indexPack. */
async function bigIngest(dbName, megabytes) {
  const source = await openEngine({ db: new MemoryLevel() });
  const src = await source.createRepo('src');
  const changes = Array.from({ length: megabytes }, (_, i) => ({ path: `blob/${i}.bin`, content: noise(1024 * 1024, 1000 + i) }));
  const { sha } = await src.commit({ branch: 'main', message: 'pack\n', author: AUTHOR, changes });
  const chunks = [];
  for await (const c of src.packObjects({ wants: [sha] })) chunks.push(c);
  await source.close();
  const db = new BrowserLevel(dbName);
  const engine = await openEngine({ db });
  try {
    const repo = await engine.getRepo('app');
    const before = await countKeys(db);
    let error = null;
    try {
      // A small memory quarantine: the objects spill to the database before they are promoted.
      await repo.indexPack(chunks, { memoryQuarantineBytes: 1024 * 1024 });
    } catch (err) {
      error = describe(err);
    }
    const after = await countKeys(db);
    let stored = false;
    try {
      await repo.readObject(sha);
      stored = true;
    } catch {}
    return { error, before, after, commitStored: stored, head: await repo.resolve('main') };
  } finally {
    await engine.close();
  }
}

/**
 * This tab's part of a race: `n` commits to `main`, each adding one file. `mode: 'cas'` gives
 * every commit the head it read as its expectation and counts the conflicts; otherwise the
 * commits are unconditional (the engine rebuilds on a branch that moved meanwhile).
 */
async function race(dbName, tab, n, mode, inProcess) {
  const engine = await openEngine({ db: new BrowserLevel(dbName), ...(inProcess ? { lock: new InProcessLock() } : {}) });
  try {
    const repo = await engine.getRepo('app');
    const made = [];
    let conflicts = 0;
    for (let i = 0; i < n; i++) {
      const change = { path: `tabs/${tab}/${i}.txt`, content: `${tab} ${i}\n` };
      if (mode === 'cas') {
        const head = await repo.resolve('main');
        try {
          made.push((await repo.commit({ branch: 'main', message: `${tab} ${i}\n`, author: AUTHOR, expectedHeadSha: head, changes: [change] })).sha);
        } catch (err) {
          if (err.code !== 'ERR_REF_CONFLICT') throw err;
          conflicts++;
        }
      } else {
        made.push((await repo.commit({ branch: 'main', message: `${tab} ${i}\n`, author: AUTHOR, changes: [change] })).sha);
      }
    }
    return { made, conflicts };
  } finally {
    await engine.close();
  }
}

/** What `main` holds after a race: its first-parent history and the files under tabs/. */
async function inspect(dbName) {
  const engine = await openEngine({ db: new BrowserLevel(dbName) });
  try {
    const repo = await engine.getRepo('app');
    const log = (await repo.log('main', { limit: 10000 })).map((e) => e.sha);
    const listed = await repo.listTree('main', { path: 'tabs', recursive: true }).catch(() => []);
    const files = listed.filter((e) => e.type === 'blob').map((e) => e.path);
    return { log, files: files.sort() };
  } finally {
    await engine.close();
  }
}

/**
 * Objects of a branch made and deleted, read (the engine keeps entries it wrote or read in
 * memory on IndexedDB), then swept: a read after the sweep must not find them, in this engine
 * or in a fresh one.
 */
async function sweptObjects(dbName) {
  await BrowserLevel.destroy(dbName);
  const db = new BrowserLevel(dbName);
  const engine = await openEngine({ db });
  const read = async (repo, sha) => {
    try {
      return (await repo.readObject(sha)).type;
    } catch (err) {
      return err.code;
    }
  };
  try {
    const repo = await engine.createRepo('swept');
    await repo.commit({ branch: 'main', message: 'keep\n', author: AUTHOR, changes: [{ path: 'kept.txt', content: 'kept\n' }] });
    const gone = await repo.commit({ branch: 'tmp', message: 'drop\n', author: AUTHOR, changes: [{ path: 'dropped.txt', content: 'dropped\n' }] });
    const before = [await read(repo, gone.sha), await read(repo, gone.tree)];
    await repo.deleteBranch('tmp');
    const swept = await engine.sweep();
    const after = [await read(repo, gone.sha), await read(repo, gone.tree)];
    const fresh = await openEngine({ db });
    try {
      const again = await fresh.getRepo('swept');
      return {
        before,
        swept: swept.objects,
        after,
        fresh: [await read(again, gone.sha), await read(again, gone.tree)],
        kept: text(await again.readFile('main', 'kept.txt')),
      };
    } finally {
      await fresh.close();
    }
  } finally {
    await engine.close();
  }
}

globalThis.levelGitStorage = { setUp, bigCommit, bigIngest, race, inspect, sweptObjects };
document.getElementById('status').textContent = 'ready';
