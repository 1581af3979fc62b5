/**
 * The sweep's mark records (repo/sweep-record.ts): a sweep stores what the regular refs reach,
 * and the next one, after an ephemeral branch expired, walks only what changed; whatever refs
 * do (commits, sandboxes, deletions, rewinds), a sweep with records leaves exactly the objects a
 * sweep without them leaves; a record the refs no longer reach, or one that cannot be read, is
 * not used.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type EngineOptions } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import type { Repository } from '../../src/repo/repository.js';
import { listRecords } from '../../src/repo/full-pack-store.js';
import { TAG, prefixRange, repoKey, shallowParentKey } from '../../src/storage/keys.js';
import { sandboxTurn } from '../engine/helpers.js';

const when = { timestamp: 1_700_000_000, timezone: '+0000' };
const author = { name: 'A', email: 'a@example.com', ...when };

async function withEngine(options: Partial<EngineOptions>, fn: (engine: Engine, db: MemoryLevel) => Promise<void>): Promise<void> {
  const db = new MemoryLevel();
  const engine = await openEngine({ db, packCache: { maxBytes: 0, warm: false }, ...options });
  try {
    await fn(engine, db);
  } finally {
    await engine.close();
  }
}

/** The repository's mark records. */
function marks(repo: Repository) {
  const { kv, repoId } = internalsOf(repo).objects;
  return listRecords(kv, repoId, 'mark');
}

async function storedIds(repo: Repository): Promise<Oid[]> {
  const out: Oid[] = [];
  for await (const o of internalsOf(repo).objects.allOids()) out.push(o);
  return out.sort();
}

/** `n` commits on main, each changing one of a few files in a few folders. */
async function history(repo: Repository, n: number): Promise<string> {
  let sha = '';
  for (let i = 0; i < n; i++) {
    const path = `d${i % 3}/e${i % 2}/f${i % 5}.txt`;
    ({ sha } = await repo.commit({ branch: 'main', message: `c${i}`, author, changes: [{ path, content: `version ${i}\n` }] }));
  }
  return sha;
}

/** Starts counting the ids whose bodies or stored forms the object store is asked for; the returned call stops and answers. */
function countReads(repo: Repository): () => number {
  const objects = internalsOf(repo).objects;
  const spies = [vi.spyOn(objects, 'readMany'), vi.spyOn(objects, 'deltaFirstForms')];
  return () => {
    let n = 0;
    for (const s of spies) for (const call of s.mock.calls) n += (call[0] as readonly unknown[]).length;
    for (const s of spies) s.mockRestore();
    return n;
  };
}

async function parentOf(repo: Repository, sha: string): Promise<Oid | undefined> {
  const [entry] = await repo.log(sha, { limit: 1 });
  return entry!.parents[0];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('mark records', () => {
  it('a sweep after an ephemeral branch expired walks only what the branch added, and collects it', async () => {
    // Spied before the repository's ref store takes it as its clock, moved past the expiry below.
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now');
    await withEngine({ sweepMarkRecords: { minObjects: 1 } }, async (engine) => {
      const repo = await engine.createRepo('r');
      const tip = await history(repo, 40);
      const first = countReads(repo);
      await repo.sweep();
      const firstReads = first();
      const records = await marks(repo);
      expect(records.map((r) => r.tips)).toEqual([[tip]]);
      expect(records[0]!.count).toBe((await storedIds(repo)).length);
      // The first sweep walked the history: every commit and the trees it reaches.
      expect(firstReads).toBeGreaterThanOrEqual(40);

      const before = await storedIds(repo);
      await sandboxTurn(repo, { path: 'd0/new.txt', content: 'agent\n' }, { author });
      clock.mockImplementation(() => realNow() + 120_000);
      const again = countReads(repo);
      const r = await repo.sweep();
      const againReads = again();
      expect(r).toMatchObject({ refs: 1, objects: 4 }); // the commit, its root tree, d0 and the new blob
      expect(await storedIds(repo)).toEqual(before);
      // Only the sandbox's commit and two trees were read, not the history.
      expect(againReads).toBeLessThanOrEqual(4);
    });
  });

  it('leaves exactly what a sweep without records leaves, whatever the refs do', async () => {
    type Op =
      | { t: 'commit'; branch: 'main' | 'feature'; file: number }
      | { t: 'sandbox'; k: number; file: number }
      | { t: 'drop'; k: number }
      | { t: 'promote'; k: number }
      | { t: 'deleteFeature' }
      | { t: 'rewind' }
      | { t: 'sweep' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constant('commit' as const), branch: fc.constantFrom('main' as const, 'feature' as const), file: fc.nat(5) }),
      fc.record({ t: fc.constant('sandbox' as const), k: fc.nat(2), file: fc.nat(5) }),
      fc.record({ t: fc.constant('drop' as const), k: fc.nat(2) }),
      fc.record({ t: fc.constant('promote' as const), k: fc.nat(2) }),
      fc.constant({ t: 'deleteFeature' as const }),
      fc.constant({ t: 'rewind' as const }),
      fc.constant({ t: 'sweep' as const }),
    );
    let step = 0;
    const apply = async (repo: Repository, o: Op): Promise<void> => {
      step++;
      const content = `step ${step}\n`;
      const changes = (file: number) => [{ path: `p${file % 2}/f${file}.txt`, content }];
      const ephemeral = { space: 'ephemeral' as const };
      const has = async (name: string, space: 'regular' | 'ephemeral') => (await repo.refs.get(`refs/heads/${name}`, { space })) !== undefined;
      switch (o.t) {
        case 'commit':
          await repo.commit({ branch: o.branch, baseBranch: 'main', message: content, author, changes: changes(o.file) });
          break;
        case 'sandbox':
          await repo.commit({ branch: `s${o.k}`, baseBranch: 'main', ...ephemeral, message: content, author, changes: changes(o.file) });
          break;
        case 'drop':
          if (await has(`s${o.k}`, 'ephemeral')) await repo.deleteBranch(`s${o.k}`, ephemeral);
          break;
        case 'promote':
          if (await has(`s${o.k}`, 'ephemeral')) await repo.promote({ baseBranch: `s${o.k}`, targetBranch: `p${o.k}` }).catch(() => undefined);
          break;
        case 'deleteFeature':
          if (await has('feature', 'regular')) await repo.deleteBranch('feature');
          break;
        case 'rewind': {
          const main = await repo.refs.get('refs/heads/main');
          const parent = await parentOf(repo, main!.oid);
          if (parent !== undefined) await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: main!.oid, newOid: parent }]);
          break;
        }
        case 'sweep':
          await repo.sweep();
          break;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        await withEngine({ sweepMarkRecords: { minObjects: 1 } }, async (withRecords) => {
          await withEngine({ sweepMarkRecords: false }, async (without) => {
            const a = await withRecords.createRepo('r');
            const b = await without.createRepo('r');
            step = 0;
            await history(a, 6);
            await history(b, 6);
            for (const o of [...ops, { t: 'sweep' } as const]) {
              const at = step;
              await apply(a, o);
              step = at;
              await apply(b, o);
              if (o.t === 'sweep') expect(await storedIds(a)).toEqual(await storedIds(b));
            }
          });
        });
      }),
      { numRuns: 25 },
    );
  });

  it('marks everything when the refs no longer reach the record (a branch rewound), and collects the rewound commits', async () => {
    await withEngine({ sweepMarkRecords: { minObjects: 1 } }, async (engine) => {
      const repo = await engine.createRepo('r');
      const old = await history(repo, 10);
      await repo.sweep();
      const parent = (await parentOf(repo, old))!;
      await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: old, newOid: parent }]);
      const r = await repo.sweep();
      expect(r.objects).toBeGreaterThanOrEqual(3); // the rewound commit, its root tree and its blob at least
      expect((await storedIds(repo)).includes(old as Oid)).toBe(false);
      const records = await marks(repo);
      expect(records.map((x) => x.tips)).toEqual([[parent]]);
      expect(records[0]!.count).toBe((await storedIds(repo)).length);
    });
  });

  it('a record that lost a chunk is not used: the sweep marks everything and writes a new one', async () => {
    await withEngine({ sweepMarkRecords: { minObjects: 1 } }, async (engine, db) => {
      const repo = await engine.createRepo('r');
      await history(repo, 10);
      await repo.sweep();
      const id = internalsOf(repo).id;
      const [record] = await marks(repo);
      // The ids rows of every series (`M` pool 0x02 ...): the record's only chunk.
      const idRows = prefixRange(repoKey(TAG.fullPack, id, new Uint8Array([0x02])));
      await db.clear({ ...idRows, keyEncoding: 'view' } as never);
      const before = await storedIds(repo);
      await repo.commit({ branch: 'sandbox', baseBranch: 'main', space: 'ephemeral', message: 'turn', author, changes: [{ path: 'x.txt', content: 'x\n' }] });
      await repo.deleteBranch('sandbox', { space: 'ephemeral' });
      const r = await repo.sweep();
      expect(r.objects).toBe(3);
      expect(await storedIds(repo)).toEqual(before);
      const [again] = await marks(repo);
      expect(again!.series).not.toBe(record!.series);
      expect(again!.count).toBe(before.length);
    });
  });

  it('histories under minObjects keep no record', async () => {
    await withEngine({}, async (engine) => {
      const repo = await engine.createRepo('r');
      await history(repo, 5);
      await repo.sweep();
      expect(await marks(repo)).toEqual([]);
    });
  });

  it('a pool with a shallow boundary, or records turned off, drops its record and marks everything', async () => {
    for (const turnOff of [false, true]) {
      const db = new MemoryLevel();
      const open = (options: Partial<EngineOptions>) => openEngine({ db, packCache: { maxBytes: 0, warm: false }, ...options });
      let engine = await open({ sweepMarkRecords: { minObjects: 1 } });
      const repo = await engine.createRepo('r');
      await history(repo, 5);
      await repo.sweep();
      const id = internalsOf(repo).id;
      expect(await marks(repo)).toHaveLength(1);
      if (turnOff) {
        await engine.close();
        engine = await open({ sweepMarkRecords: false });
      } else {
        // A commit stored without its parent (a shallow push): it reaches more once the parent arrives.
        await db.put(shallowParentKey(id, new Uint8Array(20).fill(7)), new Uint8Array(0), { keyEncoding: 'view', valueEncoding: 'view' });
      }
      const again = await engine.getRepo('r');
      await again.commit({ branch: 'gone', baseBranch: 'main', message: 'x', author, changes: [{ path: 'x.txt', content: 'x\n' }] });
      await again.deleteBranch('gone');
      const read = countReads(again);
      expect((await again.sweep()).objects).toBe(3);
      expect(read()).toBeGreaterThanOrEqual(5);
      expect(await marks(again)).toEqual([]);
      await engine.close();
    }
  });
});
