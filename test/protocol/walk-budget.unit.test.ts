/**
 * The per-request budget of upload-pack's planning walks (protocol/walk-budget.ts): a request
 * whose walks pass `maxWalkCommits` or `maxWalkMs` gets a clear `ERR` line, and the server keeps
 * answering other requests; the time limit is checked between the walks' batches.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createGitFetchHandler } from '../../src/http/fetch-handler.js';
import { encodePktLine } from '../../src/protocol/pkt-line.js';
import { WalkBudget } from '../../src/protocol/walk-budget.js';
import { LimitExceededError } from '../../src/errors.js';
import { planObjects } from '../../src/repo/walk.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';

const AUTHOR = { name: 'A', email: 'a@example.com' };
let engine: Engine;
afterEach(async () => engine.close());

function v2Fetch(lines: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = [encodePktLine('command=fetch'), enc.encode('0001'), ...lines.map((l) => encodePktLine(l)), encodePktLine('done'), enc.encode('0000')];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function history(n: number): Promise<Oid[]> {
  engine = await openEngine({ db: new MemoryLevel() as never, packCache: { maxBytes: 0 } });
  const repo = await engine.createRepo('w');
  const shas: Oid[] = [];
  for (let i = 0; i < n; i++)
    shas.push((await repo.commit({ branch: 'main', message: `m${i}`, author: AUTHOR, changes: [{ path: 'f', content: `${i}` }] })).sha);
  return shas;
}

describe('per-request walk budget', () => {
  it('answers a request that walks too many commits with an ERR line, and keeps serving others', async () => {
    const shas = await history(120);
    const tip = shas[shas.length - 1]!;
    const git = createGitFetchHandler({ engine, limits: { uploadPack: { maxWalkCommits: 50 } } });
    const ask = async (lines: string[]) => {
      const res = await git(
        new Request('http://git.test/w.git/git-upload-pack', {
          method: 'POST',
          headers: { 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' },
          body: v2Fetch(lines) as unknown as BodyInit,
        }),
      );
      return Buffer.from(await res!.arrayBuffer()).toString('latin1');
    };
    // The whole history of 120 commits, against a budget of 50, beside a depth-1 fetch.
    const [full, shallow] = await Promise.all([ask([`want ${tip}`]), ask([`want ${tip}`, 'deepen 1'])]);
    expect(full).toContain('ERR the request walks more than 50 commits');
    expect(full).not.toContain('packfile');
    expect(shallow).toContain('packfile');
    expect(shallow).not.toContain('ERR');
    // A fetch of the last 10 commits walks about 10: served.
    const recent = await ask([`want ${tip}`, `have ${shas[109]}`]);
    expect(recent).toContain('packfile');
  });

  it('stops a plan whose walks run past maxWalkMs', async () => {
    const shas = await history(30);
    let clock = 0;
    // Every check advances the clock 10 ms: the walk passes 100 ms after about ten levels.
    const walk = new WalkBudget({ maxWalkCommits: 1e9, maxWalkMs: 100 }, () => (clock += 10));
    const store = internalsOf(await engine.getRepo('w')).objects;
    const err = await planObjects(store, { wants: [shas[29]!], walk }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).details).toMatchObject({ limit: 'maxWalkMs', max: 100 });
    // Under the default limits the same plan completes.
    const plan = await planObjects(store, { wants: [shas[29]!], walk: new WalkBudget({ maxWalkCommits: 1e9, maxWalkMs: 60_000 }) });
    expect(plan.oids.length).toBeGreaterThan(30);
  });
});
