/**
 * NDJSON commits (`POST …/commits` with `content-type: application/x-ndjson`): metadata on the
 * first line, one line per change, a big file in `append` lines streamed into chunks; a
 * malformed line or a budget passed mid-stream refuses the commit and leaves no key behind.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { randomBytes } from 'node:crypto';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';
import { TAG } from '../../src/storage/keys.js';
import { equal } from '../../src/platform/bytes.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
const MiB = 1024 * 1024;
let engine: Engine;
let db: MemoryLevel;
afterEach(async () => engine.close());

async function setup(options: { maxCommitBytes?: number } = {}): Promise<FetchHandler> {
  db = new MemoryLevel();
  engine = await openEngine({ db: db as never });
  await engine.createRepo('r');
  return createApiFetchHandler({
    engine,
    tokens: createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } }),
    adminKey: ADMIN,
    ...options,
  });
}

function post(api: FetchHandler, lines: unknown[], raw = ''): Promise<Response> {
  const body = lines.map((l) => `${JSON.stringify(l)}\n`).join('') + raw;
  return api(
    new Request('http://api.test/api/v1/repos/r/commits', { method: 'POST', headers: { 'x-api-key': ADMIN, 'content-type': 'application/x-ndjson' }, body }),
  ) as Promise<Response>;
}

async function chunkKeys(): Promise<number> {
  return (await db.keys({ gte: new Uint8Array([TAG.chunk]), lt: new Uint8Array([TAG.chunk + 1]), keyEncoding: 'view' }).all()).length;
}

/** A file as lines of `piece` bytes each: the first with its path and mode, the rest appended. */
function fileLines(path: string, bytes: Uint8Array, piece: number, mode?: string): unknown[] {
  const out: unknown[] = [];
  for (let at = 0; at < bytes.length; at += piece) {
    const content = Buffer.from(bytes.subarray(at, at + piece)).toString('base64');
    out.push(at === 0 ? { path, encoding: 'base64', content, ...(mode ? { mode } : {}) } : { path, encoding: 'base64', content, append: true });
  }
  return out;
}

describe('NDJSON commits', () => {
  it('commits small files, deletes and a big file streamed in appended chunks', async () => {
    const api = await setup();
    const meta = { branch: 'main', message: 'first', author: AUTHOR };
    const big = new Uint8Array(randomBytes(9 * MiB));
    const r = await post(api, [
      meta,
      { path: 'a.txt', content: 'hello ' },
      { path: 'a.txt', content: 'world\n', append: true },
      ...fileLines('data/big.bin', big, MiB, '100755'),
      { path: 'z.txt', content: 'end' },
    ]);
    expect(r.status).toBe(201);
    const { sha } = (await r.json()) as { sha: string };
    const repo = await engine.getRepo('r');
    expect(new TextDecoder().decode(await repo.readFile(sha, 'a.txt'))).toBe('hello world\n');
    expect(equal(await repo.readFile(sha, 'data/big.bin'), big)).toBe(true);
    expect((await repo.listTree(sha, { path: 'data' }))[0]).toMatchObject({ path: 'data/big.bin', mode: '100755' });
    expect(await chunkKeys()).toBeGreaterThan(0);
    // A second commit of the same big file stores no second copy.
    const before = await chunkKeys();
    const again = await post(api, [{ ...meta, message: 'again' }, ...fileLines('copy.bin', big, 2 * MiB), { path: 'a.txt', delete: true }]);
    expect(again.status).toBe(201);
    expect(await chunkKeys()).toBe(before);
    const second = ((await again.json()) as { sha: string }).sha;
    expect(equal(await repo.readFile(second, 'copy.bin'), big)).toBe(true);
    await expect(repo.readFile(second, 'a.txt')).rejects.toThrow();
  });

  it('a malformed line is a 400 and nothing is committed, not even the chunks already written', async () => {
    const api = await setup();
    const big = new Uint8Array(randomBytes(6 * MiB));
    const meta = { branch: 'main', message: 'm', author: AUTHOR };
    for (const [lines, raw, why] of [
      [[meta, ...fileLines('big.bin', big, MiB)], '{"path": "x", "content": \n', /line 8/],
      [[meta, ...fileLines('big.bin', big, MiB), { path: 'other', content: 'x', append: true }], '', /append must follow/],
      [[meta, { path: 'a', content: 1 }], '', /content must be a string/],
      [[{ ...meta, changes: [] }], '', /one per line/],
      [[{ branch: 'main' }], '', /message/],
    ] as const) {
      const r = await post(api, lines as unknown as unknown[], raw);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(why);
      expect(await (await engine.getRepo('r')).listBranches()).toEqual([]);
      expect(await chunkKeys()).toBe(0);
    }
  });

  it('maxCommitBytes is enforced as the bytes arrive: 413, nothing left behind', async () => {
    const api = await setup({ maxCommitBytes: 5 * MiB });
    const big = new Uint8Array(randomBytes(8 * MiB));
    const r = await post(api, [{ branch: 'main', message: 'm', author: AUTHOR }, ...fileLines('big.bin', big, MiB)]);
    expect(r.status).toBe(413);
    expect(await chunkKeys()).toBe(0);
    expect(await (await engine.getRepo('r')).listBranches()).toEqual([]);
  });
});
