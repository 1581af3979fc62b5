/**
 * `maxPackObjects` (protocol/limits.ts): every object entering a fetch's plan is charged to the
 * request's WalkBudget, whatever brought it (the commits, the tree walk, explicitly wanted trees,
 * blobs and tags, include-tag); a plan past the limit ends with a LimitExceededError naming it,
 * which upload-pack sends as an `ERR` line, and a plan under it is the plan without a budget.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createGitFetchHandler } from '../../src/http/fetch-handler.js';
import { encodePktLine } from '../../src/protocol/pkt-line.js';
import { uploadPackLimits } from '../../src/protocol/limits.js';
import { WalkBudget } from '../../src/protocol/walk-budget.js';
import { LimitExceededError } from '../../src/errors.js';
import { planObjects, type ObjectPlanInput } from '../../src/repo/walk.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { ObjectStore } from '../../src/object/object-store.js';
import type { Oid } from '../../src/object/oid.js';

const AUTHOR = { name: 'A', email: 'a@example.com' };
let engine: Engine;
afterEach(async () => engine.close());

/** Ten commits over nested folders, an annotated tag on the fifth; the store and the ids. */
async function fixture(): Promise<{ store: ObjectStore; shas: Oid[]; tag: { oid: Oid; peeled: Oid } }> {
  engine = await openEngine({ db: new MemoryLevel() as never, packCache: { maxBytes: 0 } });
  const repo = await engine.createRepo('w');
  const shas: Oid[] = [];
  for (let i = 0; i < 10; i++) {
    const changes = [
      { path: 'top.txt', content: `top ${i}\n` },
      { path: `src/lib/f${i % 3}.ts`, content: `export const v = ${i};\n` },
    ];
    shas.push((await repo.commit({ branch: 'main', message: `m${i}`, author: AUTHOR, changes })).sha);
  }
  const tag = await repo.createTag('v1', shas[4]!, { message: 'one' });
  return { store: internalsOf(repo).objects, shas, tag: { oid: tag.sha, peeled: shas[4]! } };
}

const budget = (maxPackObjects?: number) => new WalkBudget({ maxWalkCommits: 1e9, maxWalkMs: 600_000, maxPackObjects });

describe('maxPackObjects', () => {
  it('charges every object a plan holds, whatever added it', async () => {
    const { store, shas, tag } = await fixture();
    const tip = shas[9]!;
    const commit = await store.decode(tip);
    const tree = commit.type === 'commit' ? commit.commit.tree : ('' as Oid);
    const root = await store.decode(tree);
    const blob = root.type === 'tree' ? root.entries.find((e) => e.name === 'top.txt')!.oid : ('' as Oid);
    const inputs: ObjectPlanInput[] = [
      { wants: [tip], includeTags: [tag] },
      { wants: [tip], filter: { kind: 'blob:none' } },
      { wants: [tip], filter: { kind: 'tree', depth: 1 } },
      { wants: [tip], depth: 1 },
      { wants: [tip], haves: [shas[6]!], thinPack: true },
      { wants: [tree, blob, tag.oid], haves: [shas[2]!] },
    ];
    for (const input of inputs) {
      const walk = budget();
      const plan = await planObjects(store, { ...input, walk });
      expect(plan.oids.length).toBeGreaterThan(0);
      expect(walk.planned, JSON.stringify(input)).toBe(plan.oids.length);
    }
  });

  it('fails a plan past the limit with a LimitExceededError naming it; at the limit the plan is unchanged', async () => {
    const { store, shas, tag } = await fixture();
    const input: ObjectPlanInput = { wants: [shas[9]!], includeTags: [tag] };
    const plain = await planObjects(store, input);
    const n = plain.oids.length;
    expect(await planObjects(store, { ...input, walk: budget(n) })).toEqual(plain);
    const err = await planObjects(store, { ...input, walk: budget(n - 1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).code).toBe('ERR_LIMIT_EXCEEDED');
    expect((err as LimitExceededError).details).toEqual({ limit: 'maxPackObjects', max: n - 1 });
    expect((err as Error).message).toContain(`more than ${n - 1} objects`);
    expect((err as Error).message).toMatch(/shallow clone \(--depth\).*partial clone/);
  });

  it('is one of the upload-pack limits: a fetch past it gets an ERR line, a depth-1 fetch beside it a pack', async () => {
    expect(uploadPackLimits().maxPackObjects).toBe(1_000_000);
    const { shas } = await fixture();
    const git = createGitFetchHandler({ engine, limits: { uploadPack: { maxPackObjects: 8 } } });
    const enc = new TextEncoder();
    const ask = async (lines: string[]) => {
      const parts = [encodePktLine('command=fetch'), enc.encode('0001'), ...lines.map((l) => encodePktLine(l)), encodePktLine('done'), enc.encode('0000')];
      const res = await git(
        new Request('http://git.test/w.git/git-upload-pack', {
          method: 'POST',
          headers: { 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' },
          body: Buffer.concat(parts) as unknown as BodyInit,
        }),
      );
      return Buffer.from(await res!.arrayBuffer()).toString('latin1');
    };
    const [full, shallow] = await Promise.all([ask([`want ${shas[9]}`]), ask([`want ${shas[9]}`, 'deepen 1'])]);
    expect(full).toContain('ERR the requested pack would hold more than 8 objects (maxPackObjects)');
    expect(full).not.toContain('packfile');
    expect(shallow).toContain('packfile');
    expect(shallow).not.toContain('ERR');
  });
});
