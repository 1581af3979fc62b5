/**
 * upload-pack serves only objects reachable from refs the caller may see: a want for an object
 * reachable only from an ephemeral ref, or from no ref at all, is refused through the regular
 * view; the ephemeral view sees its own refs over the regular ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { encodePacked } from '../../src/object/packed.js';
import { hashObject } from '../../src/object/oid.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { utf8 } from '../../src/platform/bytes.js';

let engine: Engine;
let repo: Repository;
const author = { name: 'A', email: 'a@example.com' };

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
  repo = await engine.createRepo('vis');
});
afterAll(() => engine.close());

describe('want visibility', () => {
  it('refuses wants reachable only from ephemeral refs or from nothing', async () => {
    const base = await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a/b.txt', content: 'regular' }] });
    const older = await repo.commit({ branch: 'main', message: 'two', author, changes: [{ path: 'a/c.txt', content: 'more' }] });
    const eph = await repo.commit({
      branch: 'sandbox',
      baseBranch: 'main',
      space: 'ephemeral',
      message: 'e',
      author,
      changes: [{ path: 'secret.txt', content: 'ephemeral only' }],
    });
    const secretBlob = hashObject('blob', utf8('ephemeral only'));
    const orphanBody = utf8('in no tree at all');
    const orphan = hashObject('blob', orphanBody);
    await repo.indexPack([writePackSync([encodePacked('blob', orphanBody)])]);
    const blobInHistory = hashObject('blob', utf8('regular'));

    const regular = await engine.gitBackend('vis');
    expect((await regular.invalidWants([older.sha, base.sha, blobInHistory, base.tree])).sort()).toEqual([]);
    expect((await regular.invalidWants([eph.sha, secretBlob, orphan, eph.tree])).sort()).toEqual([eph.sha, secretBlob, orphan, eph.tree].sort());

    const ephemeral = await engine.gitBackend('vis', { space: 'ephemeral' });
    expect(await ephemeral.invalidWants([eph.sha, secretBlob, base.sha])).toEqual([]);
    expect(await ephemeral.invalidWants([orphan])).toEqual([orphan]);
  });
});
