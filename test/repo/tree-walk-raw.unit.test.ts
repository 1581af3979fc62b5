/**
 * Long tree walks (tree-walk.ts) switch from decoded, cached trees to raw bodies scanned for
 * ids after a few thousand trees: the objects a plan selects stay exactly those a plain
 * recursive walk of the decoded trees finds, blobs and trees each once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { planObjects } from '../../src/repo/walk.js';
import type { Oid } from '../../src/object/oid.js';
import { AUTHOR } from '../engine/helpers.js';

let engine: Engine;
let repo: Repository;
const tips: Oid[] = [];

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, fullPacks: false } });
  repo = await engine.createRepo('wide');
  // 6,900 distinct trees: over the 4,096 a walk decodes before it scans raw bodies.
  const changes = Array.from({ length: 4600 }, (_, i) => ({ path: `d${i % 2300}/e${i}/f.txt`, content: `file ${i}\n` }));
  await repo.commit({ branch: 'main', message: 'wide', author: AUTHOR, changes });
  tips.push((await repo.getRef('refs/heads/main'))!.oid);
  await repo.commit({
    branch: 'main',
    message: 'edit',
    author: { ...AUTHOR, timestamp: AUTHOR.timestamp + 1 },
    changes: [
      { path: 'd7/e7/f.txt', content: 'changed\n' },
      { path: 'run.sh', content: '#!/bin/sh\n', mode: '100755' },
    ],
  });
  tips.push((await repo.getRef('refs/heads/main'))!.oid);
}, 120_000);

afterAll(async () => {
  await engine.close();
});

/** Every tree and blob under `roots`, by a recursive walk of decoded trees. */
async function naive(roots: Oid[]): Promise<Set<Oid>> {
  const store = internalsOf(repo).objects;
  const out = new Set<Oid>();
  const visit = async (t: Oid): Promise<void> => {
    if (out.has(t)) return;
    out.add(t);
    for (const e of await store.tree(t)) {
      if (e.mode === '160000') continue;
      if (e.mode === '40000') await visit(e.oid);
      else out.add(e.oid);
    }
  };
  for (const r of roots) await visit(r);
  return out;
}

describe('long tree walks', () => {
  it('select exactly the objects of a recursive walk, each once', async () => {
    const store = internalsOf(repo).objects;
    const plan = await planObjects(store, { wants: [tips[1]!] });
    const commits = await Promise.all(tips.map((t) => store.commit(t)));
    const expected = await naive(commits.map((c) => c.tree));
    const planned = plan.oids.filter((o) => !tips.includes(o));
    expect(planned.length).toBe(new Set(planned).size);
    expect(new Set(planned)).toEqual(expected);
    expect(expected.size).toBeGreaterThan(4096);
  }, 120_000);
});
