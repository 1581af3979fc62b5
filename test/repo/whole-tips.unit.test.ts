/**
 * After a branch moves, a depth-1 clone's objects get whole entries (repo/materialize.ts); an
 * API commit on a materialized tip skips that re-read because it wrote everything new whole.
 * These hold the skip to what it relies on: the commits' tips really are whole, and a commit
 * naming a blob stored beforehand (only as a delta here) is still materialized.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { planObjects } from '../../src/repo/walk.js';

const AUTHOR = { name: 'A', email: 'a@example.com', timestamp: 1700000000 };
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const enc = new TextEncoder();

/** Which objects a depth-1 clone of `tip` sends lack a whole entry. */
async function notWhole(db: MemoryLevel, repo: Awaited<ReturnType<Awaited<ReturnType<typeof openEngine>>['createRepo']>>, tip: string): Promise<Oid[]> {
  const objects = internalsOf(repo).objects;
  const plan = await planObjects(objects, { wants: [tip as Oid], depth: 1 });
  const present = await db.getMany(
    plan.oids.map((o) => objectKey(objects.repoId, oidToBytes(o))),
    VIEW,
  );
  return plan.oids.filter((_, i) => present[i] === undefined);
}

/** Waits (up to 5 s) until `check` answers an empty list. */
async function eventually(check: () => Promise<Oid[]>): Promise<Oid[]> {
  let left = await check();
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = await check();
  }
  return left;
}

describe('whole tips after API commits', () => {
  it('leaves every object of each commit tip whole, the commit deltas too', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    const repo = await engine.createRepo('r');
    const files = Array.from({ length: 20 }, (_, i) => ({ path: `d${i % 3}/f${i}.txt`, content: `line\n`.repeat(50) + `file ${i}\n` }));
    const first = await repo.commit({ branch: 'main', message: 'one\n', author: AUTHOR, changes: files });
    expect(await notWhole(db, repo, first.sha)).toEqual([]);
    const second = await repo.commit({
      branch: 'main',
      message: 'two\n',
      author: AUTHOR,
      changes: files.slice(0, 5).map((f) => ({ path: f.path, content: `${f.content}edited\n` })),
    });
    expect(await notWhole(db, repo, second.sha)).toEqual([]);
    await engine.close();
  });

  it('still materializes a blob stored beforehand only as a delta that a commit names', async () => {
    const db = new MemoryLevel();
    // No clone pack warmed: building it would materialize on its own (pack-out.ts).
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('r');
    await repo.commit({ branch: 'main', message: 'one\n', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a\n' }] });
    const objects = internalsOf(repo).objects;
    const base = enc.encode('line of the base\n'.repeat(40));
    const body = enc.encode(`${'line of the base\n'.repeat(40)}one more\n`);
    const [baseOid, oid] = [hashObject('blob', base), hashObject('blob', body)];
    await db.batch(
      [
        { type: 'put', key: objectKey(objects.repoId, oidToBytes(baseOid)), value: encodePacked('blob', base) },
        {
          type: 'put',
          key: deltaKey(objects.repoId, oidToBytes(oid)),
          value: encodeStoredDelta('blob', body.length, encodeRefDelta(oidToBytes(baseOid), createDelta(base, body))),
        },
      ] as never,
      VIEW,
    );
    const c = await repo.commit({ branch: 'main', message: 'two\n', author: AUTHOR, changes: [{ path: 'stored.txt', blob: oid }] });
    expect(await eventually(() => notWhole(db, repo, c.sha))).toEqual([]);
    expect(new TextDecoder().decode(await repo.readFile('main', 'stored.txt'))).toContain('one more');
    await engine.close();
  });
});
