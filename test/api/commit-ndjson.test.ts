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

  it('a declared size: the file streams in one pass and commits the same blob', async () => {
    const api = await setup();
    const big = new Uint8Array(randomBytes(6 * MiB + 123));
    const small = new TextEncoder().encode('declared and small\n');
    const lines = fileLines('big.bin', big, MiB);
    (lines[0] as Record<string, unknown>).size = big.length;
    const r = await post(api, [
      { branch: 'main', message: 'sized', author: AUTHOR },
      { path: 'small.txt', content: 'declared and small\n', size: small.length },
      ...lines,
    ]);
    expect(r.status).toBe(201);
    const { sha } = (await r.json()) as { sha: string };
    const repo = await engine.getRepo('r');
    expect(equal(await repo.readFile(sha, 'big.bin'), big)).toBe(true);
    expect(equal(await repo.readFile(sha, 'small.txt'), small)).toBe(true);
    // The same bytes without a declared size name the same blob (and store no second copy).
    const before = await chunkKeys();
    const again = await post(api, [{ branch: 'main', message: 'unsized', author: AUTHOR }, ...fileLines('copy.bin', big, MiB)]);
    expect(again.status).toBe(201);
    const tree = await repo.listTree(((await again.json()) as { sha: string }).sha);
    const blob = tree.find((e) => e.path === 'big.bin')?.sha;
    expect(blob).toMatch(/^[0-9a-f]{40}$/);
    expect(tree.find((e) => e.path === 'copy.bin')?.sha).toBe(blob);
    expect(await chunkKeys()).toBe(before);
  });

  it('a wrong declared size is a 400 naming the file, and nothing is left behind', async () => {
    const api = await setup({ maxCommitBytes: 20 * MiB });
    const big = new Uint8Array(randomBytes(6 * MiB));
    const meta = { branch: 'main', message: 'm', author: AUTHOR };
    const sized = (size: unknown, bytes = big) => {
      const lines = fileLines('big.bin', bytes, MiB);
      (lines[0] as Record<string, unknown>).size = size;
      return lines;
    };
    for (const [lines, status, why] of [
      [sized(big.length + 1), 400, /"big.bin" has 6291456 bytes, not its declared size 6291457/],
      [sized(big.length - 1), 400, /line 7: "big.bin" is longer than its declared size 6291455/],
      [sized(5 * MiB), 400, /line 7: "big.bin" is longer than its declared size/],
      [[{ path: 'a.txt', content: 'four', size: 3 }], 400, /line 2: "a.txt" is longer than its declared size 3/],
      [[{ path: 'a.txt', content: 'four', size: 5 }], 400, /"a.txt" has 4 bytes, not its declared size 5/],
      [sized(-1), 400, /size must be a non-negative integer/],
      [sized('6291456'), 400, /size must be a non-negative integer/],
      [[...fileLines('big.bin', big, MiB).slice(0, 2), { path: 'big.bin', content: 'x', append: true, size: 1 }], 400, /size go on the first line/],
      // Past the budget at once: refused before the file's bytes arrive.
      [sized(21 * MiB), 413, /at most 20971520 bytes/],
    ] as const) {
      const r = await post(api, [meta, ...(lines as unknown[])]);
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(why);
      expect(await (await engine.getRepo('r')).listBranches()).toEqual([]);
      expect(await chunkKeys()).toBe(0);
    }
  });

  it('long lines are read as JSON whatever their shape: escapes, key order, spacing, a second content key', async () => {
    const api = await setup();
    const text = `line "one"\n\ttab / slash é ${'x'.repeat(100_000)}\n`;
    const bin = new Uint8Array(randomBytes(80_000));
    const b64 = Buffer.from(bin).toString('base64');
    const raw = [
      JSON.stringify({ branch: 'main', message: 'shapes', author: AUTHOR }),
      JSON.stringify({ content: text, path: 'text.txt' }),
      // Base64 with escaped slashes (as some encoders write it), content before its encoding.
      `{ "content" : "${b64.replace(/\//g, '\\/')}" , "encoding":"base64", "path":"escaped.bin" }`,
      `{"path":"spaced.bin", "meta": {"content": "not this one", "list": [1, {"a": "}"}]}, "encoding": "base64",  "content":   "${b64}"}`,
      `{"path":"twice.txt","content":"${'y'.repeat(70_000)}","content":"the last one wins"}`,
    ].join('\n');
    const r = await post(api, [], `${raw}\n`);
    expect(r.status).toBe(201);
    const sha = ((await r.json()) as { sha: string }).sha;
    const repo = await engine.getRepo('r');
    expect(new TextDecoder().decode(await repo.readFile(sha, 'text.txt'))).toBe(text);
    expect(equal(await repo.readFile(sha, 'escaped.bin'), bin)).toBe(true);
    expect(equal(await repo.readFile(sha, 'spaced.bin'), bin)).toBe(true);
    expect(new TextDecoder().decode(await repo.readFile(sha, 'twice.txt'))).toBe('the last one wins');

    for (const [line, why] of [
      [`{"path":"bad.bin","encoding":"base64","content":"${b64.slice(0, -1)}!"}`, /line 2 content is not valid base64/],
      [`{"path":"bad.txt","content":"${'z'.repeat(70_000)}\u0001"}`, /line 2 is not a JSON value/],
      [`{"path":"bad.txt","content":"${'z'.repeat(70_000)}"`, /line 2 is not a JSON value/],
    ] as const) {
      const bad = await post(api, [{ branch: 'main', message: 'bad', author: AUTHOR }], `${line}\n`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(why);
    }
  });
});
