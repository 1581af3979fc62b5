/**
 * Property test: sequences of random multi-file commits (writes with random bytes and modes,
 * deletes, files replacing directories and directories replacing files) against a plain map of
 * path -> (bytes, mode). After every commit, `readFile` returns every file's bytes and
 * `listTree` lists exactly the model's files; history keeps every earlier state readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type FileChange } from '../../src/index.js';
import { AUTHOR } from '../engine/helpers.js';

let engine: Engine;
let run = 0;
beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
});
afterAll(async () => {
  await engine.close();
});

// A small alphabet of names so paths collide, nest and replace each other often.
const segment = fc.constantFrom('a', 'b', 'c', 'a.b', 'a-b', 'A', 'd e', 'é', '日本', 'x.txt', '.hidden', 'a0');
const pathArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const modeArb = fc.constantFrom('100644', '100644', '100755', '120000');
const contentArb = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }));

interface Entry {
  bytes: Uint8Array;
  mode: string;
}

const toBytes = (c: string | Uint8Array) => (typeof c === 'string' ? new TextEncoder().encode(c) : c);

/** Applies one commit to the model as the engine should: a written path drops what it replaces. */
function applyModel(model: Map<string, Entry>, changes: FileChange[]): void {
  for (const c of changes) {
    if (c.delete) {
      model.delete(c.path);
      continue;
    }
    for (const k of [...model.keys()]) {
      if (k.startsWith(c.path + '/')) model.delete(k); // a directory replaced by this file
      if (c.path.startsWith(k + '/')) model.delete(k); // a file replaced by this directory
    }
    const old = model.get(c.path);
    model.set(c.path, { bytes: toBytes(c.content), mode: c.mode ?? old?.mode ?? '100644' });
  }
}

/** Drops changes that conflict inside one commit (a path twice, or a file and a path through it). */
function consistent(changes: FileChange[]): FileChange[] {
  const out: FileChange[] = [];
  for (const c of changes) {
    if (out.some((o) => o.path === c.path || o.path.startsWith(c.path + '/') || c.path.startsWith(o.path + '/'))) continue;
    out.push(c);
  }
  return out;
}

describe('commit and readFile round trip against a model', () => {
  it('every state reads back exactly', async () => {
    const stepArb = fc.record({
      writes: fc.array(fc.record({ path: pathArb, content: contentArb, mode: fc.option(modeArb, { nil: undefined }) }), { maxLength: 6 }),
      deletes: fc.array(fc.nat(), { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
        const repo = await engine.createRepo(`rt-${run++}`);
        const model = new Map<string, Entry>();
        const history: [string, Map<string, Entry>][] = [];
        for (const step of steps) {
          const keys = [...model.keys()];
          const deletes: FileChange[] = keys.length === 0 ? [] : step.deletes.map((i) => ({ path: keys[i % keys.length]!, delete: true as const }));
          const changes = consistent([
            ...deletes,
            ...step.writes.map((w): FileChange => ({ path: w.path, content: w.content, ...(w.mode ? { mode: w.mode } : {}) })),
          ]);
          if (changes.length === 0) continue;
          const c = await repo.commit({ branch: 'main', message: 'step', author: AUTHOR, changes });
          applyModel(model, changes);
          history.push([c.sha, new Map(model)]);
          const listed = (await repo.listTree('main', { recursive: true })).filter((e) => e.type === 'blob');
          expect(listed.map((e) => e.path).sort()).toEqual([...model.keys()].sort());
          for (const e of listed) {
            const m = model.get(e.path)!;
            expect(e.mode, e.path).toBe(m.mode);
            expect(e.size, e.path).toBe(m.bytes.length);
            expect(await repo.readFile('main', e.path), e.path).toEqual(m.bytes);
          }
        }
        // Earlier commits still read as they were.
        for (const [sha, snap] of history) {
          for (const [p, e] of snap) expect(await repo.readFile(sha, p)).toEqual(e.bytes);
        }
        await engine.deleteRepo(repo.name);
      }),
      { numRuns: 80 },
    );
  });
});
