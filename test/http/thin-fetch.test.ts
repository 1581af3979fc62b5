/**
 * A fetch of a few commits of a history pushed at once. git's push pack stores the newest
 * version of each file whole and the older ones as deltas of it, so the objects a fetch sends
 * are stored whole; with a thin pack they go as deltas against the client's version at the
 * same path (repo/thin-bases.ts), as git's own upload-pack sends them. git completes such a
 * pack from its own objects (fsck clean); isomorphic-git does not ask for a thin pack and gets
 * the same fetch with no delta against its objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import isogit from 'isomorphic-git';
import type { Engine } from '../../src/index.js';
import { createIsomorphicTransport } from '../../src/http/isomorphic-transport.js';
import { internalsOf } from '../../src/repo/internals.js';
import { concat } from '../../src/platform/bytes.js';
import type { Oid } from '../../src/object/oid.js';
import { type gitRunner, servedRepo, tempDirs } from './helpers.js';
import { packEntryTypes } from '../pack/git-helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let work: string;

const FILES = 30;
const VERSIONS = 8;
/** The client's state: the branch `old`, VERSIONS - 3 versions in. */
const OLD = VERSIONS - 4;

/** Words drawn by a small deterministic generator, so no two files look alike (git would delta them against each other). */
function words(seed: number, n: number): string {
  let x = seed * 2654435761 + 1;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push((x >>> 8).toString(36));
  }
  return out.join(' ');
}

function fileBody(f: number, v: number): string {
  const lines = Array.from({ length: 400 }, (_, i) => `// ${words(f * 1000 + i, 8)}`);
  // Each version edits a few lines of every file.
  for (let k = 0; k <= v; k++) lines[(k * 37 + f * 5) % lines.length] += ` // edited in version ${k}`;
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  ({ g, engine, server, work } = await servedRepo(dirs, 'hist'));
  fs.mkdirSync(join(work, 'src', 'deep'), { recursive: true });
  for (let v = 0; v < VERSIONS; v++) {
    for (let f = 0; f < FILES; f++) fs.writeFileSync(join(work, f % 3 === 0 ? 'src/deep' : 'src', `file${f}.ts`), fileBody(f, v));
    await g.ok(['add', '-A'], work);
    await g.ok(['commit', '-q', '-m', `v${v}`], work);
    if (v === OLD) await g.ok(['branch', 'old'], work);
  }
  // One push of the whole history: git's pack has each file's newest version whole.
  await g.ok(['push', '-q', `${server.url}/hist.git`, 'main', 'old'], work);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

async function fetchBytes(thinPack: boolean): Promise<Uint8Array> {
  const repo = await engine.getRepo('hist');
  const [main, old] = [await repo.resolve('main'), await repo.resolve('old')];
  const answer = await internalsOf(repo).fetchPack({ wants: [main as Oid], haves: [old as Oid], thinPack, ofsDelta: true });
  const chunks: Uint8Array[] = [];
  for await (const c of answer.pack) chunks.push(c);
  return concat(chunks);
}

describe('thin fetch', () => {
  it('sends the changed files as deltas against the client’s versions: a fraction of the whole objects', async () => {
    const thin = await fetchBytes(true);
    const whole = await fetchBytes(false);
    const types = packEntryTypes(thin);
    // 3 commits, their trees and 30 files each. Each file's newest version, stored whole, goes
    // as a ref-delta against the client's version (the rest are deltas of it, as stored): no
    // blob goes whole. Before, each newest version went whole: 272 kB instead of 29 kB.
    expect(types.filter((t) => t === 7).length).toBeGreaterThanOrEqual(FILES / 2);
    expect(types.filter((t) => t === 3)).toEqual([]);
    expect(packEntryTypes(whole).filter((t) => t === 7)).toEqual([]);
    expect(thin.length).toBeLessThan(whole.length / 4);
  });

  it('git fetches it, completes the thin pack and fsck is clean', async () => {
    const dest = join(dirs.make('lg-clone-'), 'c');
    await g.ok(['clone', '-q', '--single-branch', '--branch', 'old', `${server.url}/hist.git`, dest]);
    await g.ok(['fetch', '-q', 'origin', 'main:refs/remotes/origin/main'], dest);
    await g.ok(['fsck', '--strict', '--no-progress'], dest);
    await g.ok(['checkout', '-q', '-b', 'main', 'origin/main'], dest);
    for (const f of [0, 1, 29]) {
      const path = join(f % 3 === 0 ? 'src/deep' : 'src', `file${f}.ts`);
      expect(fs.readFileSync(join(dest, path), 'utf8')).toBe(fs.readFileSync(join(work, path), 'utf8'));
    }
  });

  it('isomorphic-git (no thin-pack) fetches the same and reads the new versions', async () => {
    const http = createIsomorphicTransport({ engine });
    const dir = dirs.make('lg-iso-');
    await isogit.clone({ fs, http, dir, url: 'http://local/hist.git', ref: 'old', singleBranch: true });
    await isogit.fetch({ fs, http, dir, url: 'http://local/hist.git', ref: 'main', singleBranch: true });
    const tip = await isogit.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' });
    const { blob } = await isogit.readBlob({ fs, dir, oid: tip, filepath: 'src/file1.ts' });
    expect(new TextDecoder().decode(blob)).toBe(fileBody(1, VERSIONS - 1));
    expect((await isogit.log({ fs, dir, ref: tip })).length).toBe(VERSIONS);
  });

  it('pairs every sent commit with its parents: root trees and a merged branch’s versions go as deltas, fsck clean', async () => {
    // main: base commit (the client's), then a topic branch of two commits merged back beside
    // two commits on main, all pushed at once.
    const [g2, s2, w2] = [g, server, dirs.make('lg-merged-')];
    await g2.ok(['init', '-q', '-b', 'main', w2]);
    const write = async (f: number, v: number) => fs.writeFileSync(join(w2, `file${f}.ts`), fileBody(f, v));
    const commit = async (msg: string) => {
      await g2.ok(['add', '-A'], w2);
      await g2.ok(['commit', '-q', '-m', msg], w2);
    };
    for (let f = 0; f < 6; f++) await write(f, 0);
    await commit('base');
    await g2.ok(['branch', 'old'], w2);
    await g2.ok(['checkout', '-q', '-b', 'topic'], w2);
    for (const v of [1, 2]) {
      await write(0, v);
      await write(1, v);
      await commit(`topic ${v}`);
    }
    await g2.ok(['checkout', '-q', 'main'], w2);
    for (const v of [1, 2]) {
      await write(3, v);
      await commit(`main ${v}`);
    }
    await g2.ok(['merge', '-q', '--no-edit', 'topic'], w2);
    await engine.createRepo('merged');
    await g2.ok(['push', '-q', `${s2.url}/merged.git`, 'main', 'old'], w2);

    const repo = await engine.getRepo('merged');
    const [main, old] = [(await repo.resolve('main')) as Oid, (await repo.resolve('old')) as Oid];
    const { planObjects } = await import('../../src/repo/walk.js');
    const plan = await planObjects(internalsOf(repo).objects, { wants: [main], haves: [old], thinPack: true, ofsDelta: true });
    const tree = async (rev: string) => (await g2.ok(['rev-parse', `${rev}^{tree}`], w2)).trim() as Oid;
    const blob = async (rev: string) => (await g2.ok(['rev-parse', rev], w2)).trim() as Oid;
    const bases = plan.preferredBases!;
    // Root trees pair with their child's (or, at the client's edge, the client's).
    expect(bases.get(await tree('main~1'))).toBe(await tree('main'));
    expect(bases.get(await tree('topic'))).toBe(await tree('main')); // the merged branch's tip: a second parent
    expect(bases.get(await tree('topic~1'))).toBe(await tree('topic'));
    expect(bases.get(await blob('topic~1:file0.ts'))).toBe(await blob('topic:file0.ts'));
    expect(bases.get(await tree('topic~1'))).not.toBe(await tree('old'));

    const dest = join(dirs.make('lg-merged-clone-'), 'c');
    await g2.ok(['clone', '-q', '--single-branch', '--branch', 'old', `${s2.url}/merged.git`, dest]);
    await g2.ok(['fetch', '-q', 'origin', 'main:refs/remotes/origin/main'], dest);
    await g2.ok(['fsck', '--strict', '--no-progress'], dest);
    await g2.ok(['checkout', '-q', '-b', 'main', 'origin/main'], dest);
    for (const f of [0, 1, 3]) expect(fs.readFileSync(join(dest, `file${f}.ts`), 'utf8')).toBe(fs.readFileSync(join(w2, `file${f}.ts`), 'utf8'));
  });
  it('a version whose pack pairing would close a cycle goes as a delta of the client’s version at its path', async () => {
    // big.ts grows in `grow` and shrinks in `shrink`: git's push pack keeps the largest version
    // whole and the others as deltas of it, so the grown version's pack pairing (its child's
    // version, a delta of it) would close a cycle. Its commit's parent is not the client's:
    // only the pairing of each sent commit's tree with the client's finds the client's version.
    const [g3, s3, w3] = [g, server, dirs.make('lg-shrunk-')];
    await g3.ok(['init', '-q', '-b', 'main', w3]);
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `// ${words(7000 + from + i, 8)}`);
    const base = lines(0, 300);
    const commit = async (msg: string) => {
      await g3.ok(['add', '-A'], w3);
      await g3.ok(['commit', '-q', '-m', msg], w3);
    };
    fs.writeFileSync(join(w3, 'big.ts'), `${base.join('\n')}\n`);
    fs.writeFileSync(join(w3, 'other.ts'), fileBody(3, 0));
    await commit('base');
    await g3.ok(['branch', 'old'], w3);
    fs.writeFileSync(join(w3, 'other.ts'), fileBody(3, 1));
    await commit('other');
    fs.writeFileSync(join(w3, 'big.ts'), `${[...base, ...lines(300, 400)].join('\n')}\n`);
    await commit('grow');
    fs.writeFileSync(join(w3, 'big.ts'), `${[...base.slice(0, 250), ...lines(300, 340)].join('\n')}\n`);
    await commit('shrink');
    await engine.createRepo('shrunk');
    await g3.ok(['push', '-q', `${s3.url}/shrunk.git`, 'main', 'old'], w3);

    const repo = await engine.getRepo('shrunk');
    const [main, old] = [(await repo.resolve('main')) as Oid, (await repo.resolve('old')) as Oid];
    const rev = async (r: string) => (await g3.ok(['rev-parse', r], w3)).trim() as Oid;
    const { planObjects } = await import('../../src/repo/walk.js');
    const plan = await planObjects(internalsOf(repo).objects, { wants: [main], haves: [old], thinPack: true, ofsDelta: true });
    const grown = await rev('main~1:big.ts');
    expect(plan.preferredBases!.get(grown)).toBe(await rev('main:big.ts'));
    expect(plan.clientBases!.get(grown)).toBe(await rev('old:big.ts'));
    const answer = await internalsOf(repo).fetchPack({ wants: [main], haves: [old], thinPack: true, ofsDelta: true });
    const chunks: Uint8Array[] = [];
    for await (const c of answer.pack) chunks.push(c);
    // No blob goes whole: the grown version went whole before.
    expect(packEntryTypes(concat(chunks)).filter((t) => t === 3)).toEqual([]);

    const dest = join(dirs.make('lg-shrunk-clone-'), 'c');
    await g3.ok(['clone', '-q', '--single-branch', '--branch', 'old', `${s3.url}/shrunk.git`, dest]);
    await g3.ok(['fetch', '-q', 'origin', 'main:refs/remotes/origin/main'], dest);
    await g3.ok(['fsck', '--strict', '--no-progress'], dest);
    expect((await g3.ok(['rev-parse', 'origin/main~1:big.ts'], dest)).trim()).toBe(grown);
  });
});
