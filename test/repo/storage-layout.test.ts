/**
 * Keeping what arrives: a long history pushed as git packs it (deltas against earlier versions)
 * is stored near the size of the pack, reads back byte for byte, and serves full clones, depth-1
 * clones, fetches and isomorphic-git clones. A database written by the previous layout (every
 * object whole, deltas beside) keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import isogit from 'isomorphic-git';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { createIsomorphicTransport } from '../../src/http/isomorphic-transport.js';
import { internalsOf } from '../../src/repo/internals.js';
import { type Oid, oidToBytes } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta } from '../../src/object/packed.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { startServer, tempDirs, gitRunner } from '../http/helpers.js';
import { git, gitText, allObjects, catFileBatch } from '../pack/git-helpers.js';
import { makeEditHistory } from '../../bench/shared/edit-history.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const dirs = tempDirs();
let db: MemoryLevel;
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let work: string;
let commits: string[];
let pack: Uint8Array;

/** Bytes of every key and value of the database. */
async function storedBytes(d: MemoryLevel): Promise<number> {
  let n = 0;
  for await (const [k, v] of d.iterator(VIEW)) n += k.length + v.length;
  return n;
}

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  work = join(dirs.make('lg-hist-'), 'work');
  commits = makeEditHistory(work, { commits: 400 });
  pack = git(work, ['pack-objects', '--stdout', '-q', '--revs'], 'main\n');
  db = new MemoryLevel();
  engine = await openEngine({ db, packCache: { maxBytes: 0 } });
  const repo = await engine.createRepo('hist');
  await repo.indexPack([pack]);
  await repo.createBranch('main', commits.at(-1)!);
  server = await startServer(createNodeHandler({ engine }) as never);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('a pushed history is stored as it arrived', () => {
  it('stores within 1.3x of the pack size', async () => {
    // Measured before the branch's tip objects are materialized (createBranch starts that in the background).
    const fresh = new MemoryLevel();
    const e = await openEngine({ db: fresh, packCache: { maxBytes: 0 } });
    await (await e.createRepo('h')).indexPack([pack]);
    const bytes = await storedBytes(fresh);
    await e.close();
    expect(bytes).toBeLessThan(pack.length * 1.3);
  });

  it('reads back every object byte for byte', async () => {
    const repo = await engine.getRepo('hist');
    const oids = allObjects(work);
    const expected = catFileBatch(work, oids);
    for (const oid of oids) {
      const o = await repo.readObject(oid);
      const e = expected.get(oid as Oid)!;
      expect(o.type).toBe(e.type);
      expect(Buffer.from(o.body).equals(Buffer.from(e.body))).toBe(true);
    }
    const infos = await internalsOf(repo).objects.info(oids as Oid[]);
    infos.forEach((info, i) => expect(info).toEqual({ type: expected.get(oids[i] as Oid)!.type, size: expected.get(oids[i] as Oid)!.body.length }));
  });

  it('serves a full clone (fsck clean), a depth-1 clone, a fetch of new commits and an isomorphic-git clone', async () => {
    const full = join(dirs.make('lg-full-'), 'c');
    await g.ok(['clone', '-q', `${server.url}/hist.git`, full]);
    await g.ok(['fsck', '--strict', '--no-progress'], full);
    expect(await g.ok(['rev-parse', 'HEAD'], full)).toBe(commits.at(-1));
    expect(await g.ok(['rev-list', '--count', 'HEAD'], full)).toBe(String(commits.length));

    const shallow = join(dirs.make('lg-shallow-'), 'c');
    await g.ok(['clone', '-q', '--depth', '1', `${server.url}/hist.git`, shallow]);
    await g.ok(['fsck', '--strict', '--no-progress'], shallow);
    expect(await g.ok(['rev-parse', 'HEAD^{tree}'], shallow)).toBe(gitText(work, ['rev-parse', 'main^{tree}']));

    // A few new commits pushed by git (a thin pack against the stored deltas), then fetched.
    for (let c = 0; c < 3; c++) {
      const f = join(work, 'src', 'dir1', 'module1.ts');
      fs.writeFileSync(f, `${fs.readFileSync(f, 'utf8')}// more ${c}\n`);
      git(work, ['commit', '-qam', `more ${c}`]);
    }
    await g.ok(['push', '-q', `${server.url}/hist.git`, 'main'], work);
    await g.ok(['fetch', '-q', 'origin'], full);
    expect(await g.ok(['rev-parse', 'origin/main'], full)).toBe(gitText(work, ['rev-parse', 'main']));
    await g.ok(['fsck', '--strict', '--no-progress'], full);

    const iso = dirs.make('lg-iso-');
    await isogit.clone({ fs, http: createIsomorphicTransport({ engine }), dir: iso, url: 'http://local/hist.git', singleBranch: true });
    expect(fs.readFileSync(join(iso, 'src', 'dir1', 'module1.ts'), 'utf8')).toBe(fs.readFileSync(join(work, 'src', 'dir1', 'module1.ts'), 'utf8'));
  }, 120_000);
});

describe('a database written by the previous layout', () => {
  it('opens and serves clones: every object whole, deltas beside without a type byte', async () => {
    const old = new MemoryLevel();
    const e = await openEngine({ db: old, packCache: { maxBytes: 0 } });
    const repoId = internalsOf(await e.createRepo('old')).objects.repoId;
    // The previous layout, written directly: `O` for every object, and for each blob that has
    // a previous version at the same path, a `D` (the ref-delta entry alone) against it.
    const objects = catFileBatch(work, allObjects(work));
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    for (const [oid, o] of objects) ops.push({ type: 'put', key: objectKey(repoId, oidToBytes(oid)), value: encodePacked(o.type as never, o.body) });
    const path = 'src/dir1/module1.ts';
    const versions = [...new Set(gitText(work, ['log', '--reverse', '--format=%H', '--', path]).split('\n'))].map((c) =>
      gitText(work, ['rev-parse', `${c}:${path}`]),
    );
    for (let i = 1; i < versions.length; i++) {
      const base = objects.get(versions[i - 1] as Oid)!.body;
      const target = objects.get(versions[i] as Oid)!.body;
      ops.push({
        type: 'put',
        key: deltaKey(repoId, oidToBytes(versions[i] as Oid)),
        value: encodeRefDelta(oidToBytes(versions[i - 1] as Oid), createDelta(base, target)),
      });
    }
    await old.batch(ops as never, VIEW);
    const repo = await e.getRepo('old');
    await repo.createBranch('main', gitText(work, ['rev-parse', 'main']));
    const s = await startServer(createNodeHandler({ engine: e }) as never);
    try {
      const full = join(dirs.make('lg-old-'), 'c');
      await g.ok(['clone', '-q', `${s.url}/old.git`, full]);
      await g.ok(['fsck', '--strict', '--no-progress'], full);
      expect(fs.readFileSync(join(full, path), 'utf8')).toBe(fs.readFileSync(join(work, path), 'utf8'));
      const shallow = join(dirs.make('lg-old-'), 'd');
      await g.ok(['clone', '-q', '--depth', '1', `${s.url}/old.git`, shallow]);
      await g.ok(['fsck', '--strict', '--no-progress'], shallow);
      const [info] = await internalsOf(repo).objects.info([versions.at(-1) as Oid]);
      expect(info?.type).toBe('blob');
    } finally {
      await s.close();
      await e.close();
    }
  }, 120_000);
});
