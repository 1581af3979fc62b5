/**
 * Property test: random sequences of ref transactions (random refs, spaces, old values and new
 * values, including deletes and missing objects) against a plain in-memory model. After every
 * transaction the store and the model agree on the outcome (applied, conflict, missing object)
 * and on every ref of both spaces. The model also holds git's file/directory rule: a created ref
 * may not sit above or below another live ref of its space (an ephemeral one: of either space).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine, ZERO_OID, type Engine, type Repository } from '../../src/index.js';
import { AUTHOR } from '../engine/helpers.js';

// "feature" and "feature/x" cannot both exist (git's file/directory rule); the model checks that too.
const REFS = ['refs/heads/main', 'refs/heads/dev', 'refs/tags/v1', 'refs/heads/feature/x', 'refs/heads/feature'] as const;
const SPACES = ['regular', 'ephemeral'] as const;
const MISSING = 'f'.repeat(40);

let engine: Engine;
let shas: string[];
let run = 0;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
});
afterAll(async () => {
  await engine.close();
});

async function seededRepo(): Promise<Repository> {
  const repo = await engine.createRepo(`model-${run++}`);
  const out: string[] = [];
  for (let i = 0; i < 3; i++)
    out.push((await repo.commit({ branch: 'seed', message: `s${i}`, author: AUTHOR, changes: [{ path: 'f', content: String(i) }] })).sha);
  await repo.deleteBranch('seed');
  shas = out;
  return repo;
}

type Slot = number; // index into [ZERO, sha0, sha1, sha2, MISSING]
interface GenUpdate {
  ref: number;
  space: number;
  old: Slot | null; // null: no check
  next: Slot;
}

const updateArb = fc.record({
  ref: fc.integer({ min: 0, max: REFS.length - 1 }),
  space: fc.integer({ min: 0, max: 1 }),
  old: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  next: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constant(4) }),
});
const txArb = fc.uniqueArray(updateArb, { minLength: 1, maxLength: 3, selector: (u) => `${u.space}:${u.ref}` });

describe('ref transactions against a model', () => {
  it('agree on every outcome and every ref', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(txArb, { minLength: 1, maxLength: 25 }), async (txs) => {
        const repo = await seededRepo();
        const value = (s: Slot) => [ZERO_OID, ...shas, MISSING][s]!;
        const model = new Map<string, string>(); // "space:ref" -> sha
        for (const tx of txs as GenUpdate[][]) {
          const updates = tx.map((u) => ({
            ref: REFS[u.ref]!,
            space: SPACES[u.space]!,
            oldOid: u.old === null ? undefined : value(u.old),
            newOid: value(u.next),
          }));
          // The model: every expectation must hold, then every new object must exist.
          const current = (u: (typeof updates)[number]) => model.get(`${u.space}:${u.ref}`) ?? ZERO_OID;
          const cas = updates.some((u) => u.oldOid !== undefined && u.oldOid !== current(u));
          // The state after the transaction, to check created names against.
          const post = new Map(model);
          for (const u of updates) {
            if (u.newOid === ZERO_OID) post.delete(`${u.space}:${u.ref}`);
            else post.set(`${u.space}:${u.ref}`, u.newOid);
          }
          const nested = (a: string, b: string) => a.startsWith(b + '/') || b.startsWith(a + '/');
          const nameConflict = updates.some(
            (u) =>
              current(u) === ZERO_OID &&
              u.newOid !== ZERO_OID &&
              (u.space === 'ephemeral' ? SPACES : (['regular'] as const)).some((space) =>
                [...post.keys()].some((k) => k.startsWith(`${space}:`) && nested(k.slice(space.length + 1), u.ref)),
              ),
          );
          const conflict = cas || nameConflict;
          const missing = !conflict && updates.some((u) => u.newOid === MISSING);
          const outcome = await repo.refs.transaction(updates).then(
            (applied) => ({ ok: true as const, applied }),
            (err) => ({ ok: false as const, code: err.code as string }),
          );
          if (conflict) expect(outcome).toEqual({ ok: false, code: 'ERR_REF_CONFLICT' });
          else if (missing) expect(outcome).toEqual({ ok: false, code: 'ERR_MISSING_OBJECTS' });
          else {
            expect(outcome.ok).toBe(true);
            if (outcome.ok) expect(outcome.applied.map((a) => a.oldOid)).toEqual(updates.map((u) => current(u)));
            for (const u of updates) {
              if (u.newOid === ZERO_OID) model.delete(`${u.space}:${u.ref}`);
              else model.set(`${u.space}:${u.ref}`, u.newOid);
            }
          }
          for (const space of SPACES) {
            const stored = (await repo.refs.list({ space })).map(([r, v]) => [r, v.oid]);
            const expected = [...model]
              .filter(([k]) => k.startsWith(`${space}:`))
              .map(([k, v]) => [k.slice(space.length + 1), v])
              .sort(([a], [b]) => (a! < b! ? -1 : 1));
            expect(stored).toEqual(expected);
          }
        }
        await engine.deleteRepo(repo.name);
      }),
      { numRuns: 60 },
    );
  });
});
