/**
 * Deltas that arrive in a push are kept and sent again when a later pack carries their base: a
 * full clone of a history pushed by git is about as small as C git's own pack, and git (fsck)
 * and isomorphic-git both read it. A depth-1 pack sends a kept delta only when its base is in
 * the same pack: git push deltas similar files of one commit against each other, so a one-commit
 * tree clones with deltas too.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import isogit from 'isomorphic-git';
import type { Engine } from '../../src/index.js';
import { createIsomorphicTransport } from '../../src/http/isomorphic-transport.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { concat } from '../../src/platform/bytes.js';
import { gitEnv, type gitRunner, servedRepo, tempDirs } from './helpers.js';
import { runGit } from '../protocol/fake-backend.js';
import { git, initBare, packEntryTypes } from '../pack/git-helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let work: string;
let home: string;

beforeAll(async () => {
  ({ home, g, engine, server, work } = await servedRepo(dirs, 'hist'));
  // Twelve versions of forty sizeable files, each version editing a line in every file and
  // pushed on its own, as agents do: git sends most blobs as deltas against the last version.
  const lines = Array.from({ length: 400 }, (_, i) => `export const value${i} = ${i * 7} // some real-looking text ${i}`);
  for (let v = 0; v < 12; v++) {
    for (let f = 0; f < 40; f++) {
      const body = lines.map((l, i) => (i === (v * 13 + f) % 400 ? `${l} changed in v${v}` : l)).join('\n');
      fs.mkdirSync(join(work, 'src'), { recursive: true });
      fs.writeFileSync(join(work, 'src', `file${f}.ts`), `// file ${f}\n${body}\n`);
    }
    await g.ok(['add', '-A'], work);
    await g.ok(['commit', '-q', '-m', `v${v}`], work);
    await g.ok(['push', '-q', `${server.url}/hist.git`, 'main'], work);
  }
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

async function packOf(options: { depth?: number }): Promise<Uint8Array> {
  const repo = await engine.getRepo('hist');
  const tip = await repo.resolve('main');
  const chunks: Uint8Array[] = [];
  for await (const c of repo.packObjects({ wants: [tip], ...options })) chunks.push(c);
  return concat(chunks);
}

describe('delta reuse', () => {
  it("a full pack reuses received deltas and is close to the size of git's own", async () => {
    const full = await packOf({});
    const objects = await readPackBytes(full);
    const expected = Number(await g.ok(['rev-list', '--objects', '--count', 'main'], work));
    expect(objects.length).toBe(expected);
    // Without deltas the pack holds every version compressed whole; with them it is within
    // 2x of what git's own pack-objects makes of the same history.
    const noDeltas = await engine.getRepo('hist').then(async (repo) => {
      const chunks: Uint8Array[] = [];
      for await (const c of internalsOf(repo).streamPack(objects.map((o) => o.oid))) chunks.push(c);
      return concat(chunks).length;
    });
    const gitPack = await runGit(['pack-objects', '--stdout', '-q', '--revs'], { cwd: work, input: 'main\n', env: gitEnv(home) });
    const gitSize = gitPack.stdout.length;
    expect(gitSize).toBeGreaterThan(0);
    expect(full.length).toBeLessThan(noDeltas / 3);
    expect(full.length).toBeLessThan(gitSize * 2);
  });

  it('git clones it (fsck clean) and isomorphic-git clones it in-process', async () => {
    const dest = join(dirs.make('lg-clone-'), 'c');
    await g.ok(['clone', '-q', `${server.url}/hist.git`, dest]);
    await g.ok(['fsck', '--strict', '--no-progress'], dest);
    expect(fs.readFileSync(join(dest, 'src', 'file3.ts'), 'utf8')).toBe(fs.readFileSync(join(work, 'src', 'file3.ts'), 'utf8'));

    const iso = dirs.make('lg-iso-');
    await isogit.clone({ fs, http: createIsomorphicTransport({ engine }), dir: iso, url: 'http://local/hist.git', singleBranch: true });
    expect(fs.readFileSync(join(iso, 'src', 'file7.ts'), 'utf8')).toBe(fs.readFileSync(join(work, 'src', 'file7.ts'), 'utf8'));
    expect((await isogit.log({ fs, dir: iso })).length).toBe(12);
  });

  it('a depth-1 pack of this history has no deltas: every tip blob was pushed against its previous version', async () => {
    const pack = await packOf({ depth: 1 });
    const objects = await readPackBytes(pack);
    expect(objects.every((o) => o.delta === undefined)).toBe(true);
    const full = await readPackBytes(await packOf({}));
    expect(full.some((o) => o.delta !== undefined)).toBe(true);
  });

  it('a depth-1 clone of one commit of similar files carries the deltas git pushed, and git and isomorphic-git read it', async () => {
    await engine.createRepo('similar');
    const src = dirs.make('lg-similar-');
    await g.ok(['init', '-q', '-b', 'main', src]);
    const lines = Array.from({ length: 300 }, (_, i) => `export function helper${i}(x: number): number { return x * ${i} + ${i % 17}; }`);
    for (let f = 0; f < 30; f++) {
      fs.mkdirSync(join(src, 'lib'), { recursive: true });
      fs.writeFileSync(
        join(src, 'lib', `mod${f}.ts`),
        `// module ${f}
${lines.map((l, i) => (i === f * 7 ? `${l} // ${f}` : l)).join('\n')}\n`,
      );
    }
    await g.ok(['add', '-A'], src);
    await g.ok(['commit', '-q', '-m', 'one commit'], src);
    await g.ok(['push', '-q', `${server.url}/similar.git`, 'main'], src);

    const repo = await engine.getRepo('similar');
    const tip = await repo.resolve('main');
    const chunks: Uint8Array[] = [];
    for await (const c of repo.packObjects({ wants: [tip], depth: 1 })) chunks.push(c);
    const pack = concat(chunks);
    const objects = await readPackBytes(pack);
    expect(objects.length).toBe(1 + 2 + 30);
    expect(objects.filter((o) => o.delta !== undefined).length).toBeGreaterThan(20);
    const whole: Uint8Array[] = [];
    for await (const c of internalsOf(repo).streamPack(objects.map((o) => o.oid))) whole.push(c);
    expect(pack.length).toBeLessThan(concat(whole).length / 3);

    const dest = join(dirs.make('lg-clone-'), 'c');
    await g.ok(['clone', '-q', '--depth', '1', '--single-branch', `${server.url}/similar.git`, dest]);
    await g.ok(['fsck', '--strict', '--no-progress'], dest);
    for (const f of [0, 13, 29]) expect(fs.readFileSync(join(dest, 'lib', `mod${f}.ts`), 'utf8')).toBe(fs.readFileSync(join(src, 'lib', `mod${f}.ts`), 'utf8'));

    const iso = dirs.make('lg-iso-');
    await isogit.clone({ fs, http: createIsomorphicTransport({ engine }), dir: iso, url: 'http://local/similar.git', singleBranch: true, depth: 1 });
    expect(fs.readFileSync(join(iso, 'lib', 'mod21.ts'), 'utf8')).toBe(fs.readFileSync(join(src, 'lib', 'mod21.ts'), 'utf8'));
  });

  it('an incremental fetch with thin-pack sends deltas against what the client has', async () => {
    const dest = join(dirs.make('lg-fetch-'), 'c');
    await g.ok(['clone', '-q', `${server.url}/hist.git`, dest]);
    const before = await g.ok(['rev-parse', 'HEAD'], dest);
    const body = fs.readFileSync(join(work, 'src', 'file1.ts'), 'utf8');
    fs.writeFileSync(join(work, 'src', 'file1.ts'), body.replace('value5 =', 'value5 /* next */ ='));
    await g.ok(['commit', '-qam', 'v12'], work);
    await g.ok(['push', '-q', `${server.url}/hist.git`, 'main'], work);
    const tip = await g.ok(['rev-parse', 'HEAD'], work);

    const backend = await engine.gitBackend('hist');
    const size = async (thinPack: boolean) => {
      const r = await backend.fetch({ wants: [tip as never], haves: [before as never], clientShallows: [], includeTag: false, ofsDelta: true, thinPack });
      let n = 0;
      for await (const c of r.pack) n += c.length;
      return n;
    };
    const thin = await size(true);
    const full = await size(false);
    expect(thin).toBeLessThan(full / 4);

    await g.ok(['fetch', '-q', 'origin'], dest);
    expect(await g.ok(['rev-parse', 'origin/main'], dest)).toBe(tip);
    await g.ok(['fsck', '--strict', '--no-progress'], dest);
  });

  it("with ofs-delta asked, in-pack deltas go out as OFS_DELTA after their base; ref-deltas only for the client's bases", async () => {
    const backend = await engine.gitBackend('hist');
    const tip = (await backend.listRefs()).find((r) => r.name === 'refs/heads/main')!.oid!;
    const pack = async (ofsDelta: boolean, haves: string[] = [], thinPack = false) => {
      const r = await backend.fetch({ wants: [tip], haves: haves as never[], clientShallows: [], includeTag: false, ofsDelta, thinPack });
      const chunks: Uint8Array[] = [];
      for await (const c of r.pack) chunks.push(c);
      return concat(chunks);
    };
    const ofs = await pack(true);
    const types = packEntryTypes(ofs);
    expect(types.filter((t) => t === 6).length).toBeGreaterThan(100);
    expect(types).not.toContain(7);
    // git checks every offset points back at an entry start, and the objects and their links.
    const bare = initBare(dirs.make('lg-ofs-'), 'ofs.git');
    git(bare, ['index-pack', '--strict', '--stdin'], ofs);
    git(bare, ['fsck', '--strict', '--no-dangling', tip]);
    // The same objects either way; without ofs-delta the deltas stay ref-deltas.
    const ref = await pack(false);
    expect(packEntryTypes(ref).filter((t) => t === 7).length).toBe(types.filter((t) => t === 6).length);
    expect((await readPackBytes(ref)).map((o) => o.oid).sort()).toEqual((await readPackBytes(ofs)).map((o) => o.oid).sort());
    // A thin fetch: deltas against what the client has are ref-deltas (their base is not in the pack).
    const parent = (await g.ok(['rev-parse', 'HEAD~1'], work)) as string;
    const thin = packEntryTypes(await pack(true, [parent], true));
    expect(thin).toContain(7);
  });
});
