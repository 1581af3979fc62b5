/**
 * A branch squashed onto main and deleted, by stock git over HTTP, then a sweep: git sent the
 * branch's last versions as deltas of its first ones (a thin pack against the old tip), and
 * only the deleted branch reached those. The sweep stores the survivors whole and collects
 * everything the deleted branch alone reached (repo/sweep-orphans.ts): what is left is exactly
 * what the refs reach, and clones of both branches are fsck --strict clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Engine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import { commitFiles, servedRepo, tempDirs, type gitRunner } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let work: string;

/** A 150-line file; `edits` replaces lines by number. */
function file(name: string, edits: Record<number, string> = {}): string {
  return Array.from({ length: 150 }, (_, i) => edits[i] ?? `${name}: line ${i} of a file that mostly stays as it is`).join('\n') + '\n';
}

beforeAll(async () => {
  ({ engine, server, g, work } = await servedRepo(dirs, 'agent'));
});

afterAll(async () => {
  await server.close();
  await engine.close();
  dirs.cleanup();
});

describe('a branch squashed and deleted, then a sweep', () => {
  it('keeps exactly what the refs reach, the squashed versions stored whole where their bases died', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `src/f${i}.txt`);
    const edits = new Map(names.map((n) => [n, {} as Record<number, string>]));
    const commit = (paths: string[], lines: number[], tag: string) => {
      for (const p of paths) for (const l of lines) edits.get(p)![l] = `${tag} of ${p}, line ${l}`;
      return commitFiles(g, work, Object.fromEntries(paths.map((p) => [p, file(p, edits.get(p))])), tag);
    };
    await commit(names, [0], 'init');
    const remote = `${server.url}/agent.git`;
    await g.ok(['remote', 'add', 'origin', remote], work);
    await g.ok(['push', '-q', 'origin', 'main'], work);
    // A feature branch rewrites ten lines of four files, pushed; then edits a line of each,
    // pushed again: git sends those versions as deltas of the ones just pushed (the old tip is
    // the thin pack's edge).
    await g.ok(['checkout', '-q', '-b', 'feature'], work);
    const featured = names.slice(0, 4);
    await commit(
      featured,
      Array.from({ length: 10 }, (_, k) => 40 + k),
      'feature rewrite',
    );
    await g.ok(['push', '-q', 'origin', 'feature'], work);
    await commit(featured, [120], 'feature fix');
    await g.ok(['push', '-q', 'origin', 'feature'], work);
    // The work squashed onto main as one commit (same tree), pushed; the feature branch deleted:
    // its first versions are dead, the last ones live on in the squashed commit.
    await g.ok(['checkout', '-q', '-b', 'squashed', 'main'], work);
    await g.ok(['checkout', 'feature', '--', '.'], work);
    await g.ok(['commit', '-q', '-m', 'feature, squashed'], work);
    await g.ok(['push', '-q', 'origin', 'squashed'], work);
    await g.ok(['push', '-q', 'origin', '--delete', 'feature'], work);
    await g.ok(['branch', '-q', '-D', 'feature'], work);

    const repo = await engine.getRepo('agent');
    const objects = internalsOf(repo).objects;
    const reachable = new Set((await g.ok(['rev-list', '--objects', 'main', 'squashed'], work)).split('\n').map((l) => l.slice(0, 40) as Oid));
    const stored = async () => {
      const out: Oid[] = [];
      for await (const o of objects.allOids()) out.push(o);
      return out;
    };
    const dead = new Set((await stored()).filter((o) => !reachable.has(o)));
    expect(dead.size).toBeGreaterThanOrEqual(2 + 4); // the feature's two commits, its first versions
    // The case under test: the last versions kept as deltas of versions only the deleted branch reached.
    const live = [...reachable];
    const deltas = await objects.getDeltas(live);
    const orphans = live.filter((_, i) => deltas[i] !== undefined && dead.has(deltas[i]!.base as Oid));
    expect(orphans.length).toBeGreaterThan(0);

    const swept = await engine.sweep({ waitMs: 10_000 });
    expect(swept.objects).toBe(dead.size);
    expect((await stored()).sort()).toEqual([...reachable].sort());
    expect(await objects.getDeltas(orphans)).toEqual(orphans.map(() => undefined));

    for (const branch of ['main', 'squashed']) {
      const dest = join(dirs.make('lg-clone-'), 'c');
      await g.ok(['clone', '-q', '--branch', branch, remote, dest]);
      await g.ok(['fsck', '--strict', '--no-progress'], dest);
      expect(await g.ok(['rev-parse', 'HEAD^{tree}'], dest)).toBe(await g.ok(['rev-parse', `${branch}^{tree}`], work));
    }
  });
});
