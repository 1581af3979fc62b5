/**
 * The sweep's mark over a history that arrived as a pack: its trees are stored only as deltas
 * (`D`), which the mark reads from their deltas beside the trees it scanned (tree-walk.ts
 * RawTrees), never rebuilding them. Checked against a walk that decodes every tree: after a
 * branch is deleted, everything the remaining branch reaches is still readable, and what only
 * the deleted branch reached is gone.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import { isTreeMode } from '../../src/object/tree.js';
import { concat } from '../../src/platform/bytes.js';
import type { Repository } from '../../src/repo/repository.js';

const author = { name: 'A', email: 'a@example.com' };

function text(seed: number, lines = 60): string {
  return Array.from({ length: lines }, (_, i) => `line ${i} of a file that changes a little each time: ${i === seed % lines ? `edit ${seed}` : i * 7}`).join(
    '\n',
  );
}

/** Every object `tip` reaches, by decoding each commit and tree (no raw scan, no shapes). */
async function reachable(repo: Repository, tip: Oid): Promise<Set<Oid>> {
  const objects = internalsOf(repo).objects;
  const seen = new Set<Oid>();
  let commits: Oid[] = [tip];
  let trees: Oid[] = [];
  while (commits.length > 0 || trees.length > 0) {
    const next: Oid[] = [];
    for (const d of await objects.decodeMany(commits)) {
      if (d.type !== 'commit') continue;
      if (!seen.has(d.commit.tree)) seen.add(d.commit.tree), trees.push(d.commit.tree);
      for (const p of d.commit.parents) if (!seen.has(p)) seen.add(p), next.push(p);
    }
    commits.forEach((c) => seen.add(c));
    commits = next;
    const level = trees;
    trees = [];
    for (const d of await objects.decodeMany(level)) {
      if (d.type !== 'tree') continue;
      for (const e of d.entries) {
        if (seen.has(e.oid) || e.mode === '160000') continue;
        seen.add(e.oid);
        if (isTreeMode(e.mode)) trees.push(e.oid);
      }
    }
  }
  return seen;
}

async function storedIds(repo: Repository): Promise<Set<Oid>> {
  const out = new Set<Oid>();
  for await (const o of internalsOf(repo).objects.allOids()) out.add(o);
  return out;
}

describe('the sweep over a pushed history', () => {
  it('keeps what the remaining branch reaches and collects what only a deleted branch reached, trees stored as deltas', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    try {
      const src = await engine.createRepo('src');
      let main = '';
      for (let c = 0; c < 60; c++) {
        const changes = [
          { path: `d${c % 3}/e${c % 4}/f${c % 5}.txt`, content: text(c) },
          { path: `d${(c + 1) % 3}/g${c % 2}.txt`, content: text(c * 3, 40) },
          // In this commit's tree only (removed by the next): no delta names it and no other
          // tree holds it, so only the walk of this commit's trees keeps it.
          { path: `d${c % 3}/e${(c + 1) % 4}/once.txt`, content: `only in commit ${c}` },
          ...(c > 0 ? [{ path: `d${(c - 1) % 3}/e${c % 4}/once.txt`, delete: true as const }] : []),
        ];
        main = (await src.commit({ branch: 'main', message: `main ${c}`, author, changes })).sha;
      }
      let topic = main;
      const topicOnly: string[] = [];
      for (let c = 0; c < 15; c++) {
        const content = `only on topic ${c}: ${text(1000 + c, 20)}`;
        topicOnly.push(content);
        const changes = [
          { path: `topic/t${c % 4}/x${c}.txt`, content },
          { path: `d0/e0/f${c % 5}.txt`, content: text(500 + c) },
        ];
        topic = (await src.commit({ branch: 'topic', baseBranch: 'main', message: `topic ${c}`, author, changes })).sha;
      }
      // The history as a pack with its kept deltas, stored into a fresh repository as a push would be.
      const parts: Uint8Array[] = [];
      for await (const p of src.packObjects({ wants: [main, topic] })) parts.push(p);
      const dst = await engine.createRepo('dst');
      await dst.indexPack([concat(parts)]);
      await dst.createBranch('main', main);
      await dst.createBranch('topic', topic);

      // Trees stored only as deltas: the mark reads them from their deltas.
      const objects = internalsOf(dst).objects;
      const all = [...(await storedIds(dst))];
      const forms = await objects.forms(all);
      const deltaOnlyTrees = (await objects.info(all)).filter((info, i) => info?.type === 'tree' && forms[i]?.whole === undefined).length;
      expect(deltaOnlyTrees).toBeGreaterThan(40);

      const keep = await reachable(dst, main as Oid);
      const gone = [...(await reachable(dst, topic as Oid))].filter((o) => !keep.has(o));
      expect(gone.length).toBeGreaterThan(15);
      await dst.deleteBranch('topic');
      const swept = await engine.sweep();
      expect(swept.objects).toBeGreaterThan(0);

      const bodies = await objects.readMany([...keep]);
      expect(bodies.filter((b) => b === undefined)).toEqual([]);
      const left = await storedIds(dst);
      // What only topic reached is gone, bases of main's kept deltas included (those are whole now).
      expect(gone.filter((o) => left.has(o))).toEqual([]);
      expect(left.size).toBe(keep.size);
    } finally {
      await engine.close();
    }
  });
});
