/**
 * Commits made through the API keep each changed blob and tree as a delta against the version
 * it replaces: a full pack of a history built turn by turn is as small as git's own repack of
 * it, git (index-pack --strict, fsck) and isomorphic-git read it, chains stop at MAX_CHAIN, a
 * revert to an older version makes no delta cycle, and a thin fetch sends only deltas.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import isogit from 'isomorphic-git';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { createIsomorphicTransport } from '../../src/http/isomorphic-transport.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { MAX_CHAIN } from '../../src/repo/pack-out.js';
import { concat } from '../../src/platform/bytes.js';
import { git, gitText, initBare, tempDir } from '../pack/git-helpers.js';

const author = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };
const lines = Array.from({ length: 300 }, (_, i) => `export const value${i} = ${i * 3}; // a line of ordinary source text ${i}`);
const TURNS = 120;

let engine: Engine;
let repo: Repository;
let tmp: ReturnType<typeof tempDir>;
const tips: string[] = [];
let final = '';

async function pack(options: { wants: string[]; haves?: string[] }): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of repo.packObjects(options)) chunks.push(c);
  return concat(chunks);
}

beforeAll(async () => {
  tmp = tempDir('lg-commit-deltas-');
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
  repo = await engine.createRepo('turns');
  const body = [...lines];
  tips.push(
    (
      await repo.commit({
        branch: 'main',
        message: 'init',
        author,
        changes: [
          { path: 'src/app/main.ts', content: body.join('\n') + '\n' },
          { path: 'README.md', content: 'turns\n' },
        ],
      })
    ).sha,
  );
  // One line edited per turn in the same file, as an agent does: a chain longer than MAX_CHAIN.
  for (let t = 0; t < TURNS; t++) {
    body[(t * 37) % body.length] = `export const edited${t} = ${t}; // turn ${t}`;
    tips.push(
      (await repo.commit({ branch: 'main', message: `turn ${t}`, author, changes: [{ path: 'src/app/main.ts', content: body.join('\n') + '\n' }] })).sha,
    );
  }
  final = body.join('\n') + '\n';
});

afterAll(async () => {
  await engine?.close();
  tmp?.cleanup();
});

describe('deltas of API commits', () => {
  it('a full pack carries them, chains stay within MAX_CHAIN, and git checks the pack strictly', async () => {
    const tip = tips.at(-1)!;
    const bytes = await pack({ wants: [tip] });
    const objects = await readPackBytes(bytes);
    // commits, root trees, src/ and src/app/ trees, blobs: 4 objects per turn plus README.
    expect(objects.length).toBe((TURNS + 1) * 5 + 1);
    const base = new Map<string, string>(objects.filter((o) => o.delta).map((o) => [o.oid, o.delta!.base]));
    // Every blob version after the first is a delta, but for the ones where a chain restarts.
    // (The trees here are one or two entries long: too small for a delta to pay.)
    const blobDeltas = objects.filter((o) => o.type === 'blob' && o.delta).length;
    expect(blobDeltas).toBeGreaterThanOrEqual(TURNS - Math.ceil(TURNS / MAX_CHAIN));
    let longest = 0;
    for (const oid of base.keys()) {
      let n = 0;
      for (let o: string | undefined = oid; o !== undefined && base.has(o); o = base.get(o)) n++;
      longest = Math.max(longest, n);
    }
    expect(longest).toBeLessThanOrEqual(MAX_CHAIN);
    expect(longest).toBeGreaterThan(10);

    const bare = initBare(tmp.dir, 'full.git');
    git(bare, ['index-pack', '--strict', '--stdin'], bytes);
    git(bare, ['update-ref', 'refs/heads/main', tip]);
    git(bare, ['fsck', '--strict', '--no-progress']);
    expect(gitText(bare, ['show', 'main:src/app/main.ts']) + '\n').toBe(final);
    expect(gitText(bare, ['rev-list', '--count', 'main'])).toBe(String(TURNS + 1));
    // About as small as git's own repack of the same history (deltas found afresh).
    git(bare, ['repack', '-adfq']);
    const theirs = git(bare, ['pack-objects', '--stdout', '-q', '--revs'], 'main\n');
    expect(bytes.length).toBeLessThan(theirs.length * 1.5);
    const whole: Uint8Array[] = [];
    for await (const c of internalsOf(repo).streamPack(objects.map((o) => o.oid))) whole.push(c);
    expect(bytes.length).toBeLessThan(concat(whole).length / 4);
  });

  it('isomorphic-git clones the history in-process', async () => {
    const dir = join(tmp.dir, 'iso');
    await isogit.clone({ fs, http: createIsomorphicTransport({ engine }), dir, url: 'http://local/turns.git', singleBranch: true });
    expect(fs.readFileSync(join(dir, 'src/app/main.ts'), 'utf8')).toBe(final);
    expect((await isogit.log({ fs, dir })).length).toBe(TURNS + 1);
  });

  it('a thin fetch of the last turn sends deltas against what the client has', async () => {
    const backend = await engine.gitBackend('turns');
    const size = async (thinPack: boolean) => {
      const r = await backend.fetch({
        wants: [tips.at(-1)! as never],
        haves: [tips.at(-2)! as never],
        clientShallows: [],
        includeTag: false,
        ofsDelta: true,
        thinPack,
      });
      let n = 0;
      for await (const c of r.pack) n += c.length;
      return n;
    };
    const thin = await size(true);
    expect(thin).toBeLessThan((await size(false)) / 4);
    expect(thin).toBeLessThan(1024);
  });

  it('a revert to an older version adds no delta cycle: the pack stays readable by git', async () => {
    const r = await engine.createRepo('revert');
    const a = lines.join('\n') + '\n';
    const b = lines.map((l, i) => (i === 5 ? 'changed' : l)).join('\n') + '\n';
    for (const content of [a, b, a, b, a]) await r.commit({ branch: 'main', message: 'flip', author, changes: [{ path: 'f.ts', content }] });
    const tip = await r.resolve('main');
    const chunks: Uint8Array[] = [];
    for await (const c of r.packObjects({ wants: [tip] })) chunks.push(c);
    const bytes = concat(chunks);
    // Five commits, two distinct trees, two distinct blobs.
    expect((await readPackBytes(bytes)).length).toBe(5 + 2 + 2);
    const bare = initBare(tmp.dir, 'revert.git');
    git(bare, ['index-pack', '--strict', '--stdin'], bytes);
    git(bare, ['update-ref', 'refs/heads/main', tip]);
    git(bare, ['fsck', '--strict', '--no-progress']);
  });
});
