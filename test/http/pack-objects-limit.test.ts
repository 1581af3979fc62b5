/**
 * `limits.uploadPack.maxPackObjects` seen from stock git: a clone whose pack would hold more
 * objects than the limit fails alone, git printing the server's reason (an `ERR` line: `fatal:
 * remote error: …`), and the same server goes on serving a depth-1 clone of that repository
 * and a clone of another one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { gitRunner, startServer, tempDirs } from './helpers.js';

const AUTHOR = { name: 'A', email: 'a@example.com' };
const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never });
  // 'long': 12 commits of two changed files (48 objects); a depth-1 clone of it holds 4 objects.
  const long = await engine.createRepo('long');
  for (let i = 0; i < 12; i++)
    await long.commit({
      branch: 'main',
      message: `m${i}`,
      author: AUTHOR,
      changes: [
        { path: 'a.txt', content: `a${i}\n` },
        { path: 'b.txt', content: `b${i}\n` },
      ],
    });
  const other = await engine.createRepo('other');
  await other.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'a.txt', content: 'one\n' }] });
  server = await startServer(createGitNodeHandler({ engine, limits: { uploadPack: { maxPackObjects: 10 } } }));
  g = gitRunner(dirs.make('lg-home-'));
});

afterAll(async () => {
  await server.close();
  await engine.close();
  dirs.cleanup();
});

describe('maxPackObjects', () => {
  for (const version of ['2', '0']) {
    it(`protocol v${version}: a clone past the limit fails with the reason on stderr; others are served beside it and after`, async () => {
      const root = dirs.make('lg-packlimit-');
      const proto = ['-c', `protocol.version=${version}`];
      const [full, beside] = await Promise.all([
        g.run([...proto, 'clone', '-q', `${server.url}/long.git`, join(root, 'full')]),
        g.run([...proto, 'clone', '-q', `${server.url}/other.git`, join(root, 'beside')]),
      ]);
      expect(full.code).not.toBe(0);
      expect(full.stderr).toContain('remote error: the requested pack would hold more than 10 objects (maxPackObjects)');
      expect(full.stderr).toMatch(/shallow clone \(--depth\)/);
      expect(beside.code, beside.stderr).toBe(0);
      // After the refusal: a depth-1 clone of the same repository (4 objects) and a clone of another.
      await Promise.all([
        g.ok([...proto, 'clone', '-q', '--depth', '1', `${server.url}/long.git`, join(root, 'shallow')]),
        g.ok([...proto, 'clone', '-q', `${server.url}/other.git`, join(root, 'after')]),
      ]);
      expect(await g.ok(['log', '--format=%s'], join(root, 'shallow'))).toBe('m11');
      expect(await g.ok(['show', 'HEAD:b.txt'], join(root, 'shallow'))).toBe('b11');
      await g.ok(['fsck', '--no-dangling'], join(root, 'shallow'));
      expect(await g.ok(['show', 'HEAD:a.txt'], join(root, 'after'))).toBe('one');
    }, 60_000);
  }
});
