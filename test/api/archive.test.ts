/**
 * `GET /repos/:repo/archive` against `git archive` of the same commit: the tar is byte for byte
 * git's (pax global header with the commit id, modes, symlinks, exec bits, long paths, prefix,
 * pathspec); the zip has git's listing, attributes and bytes of every file; tar.gz is the tar
 * gzipped; a missing path or ref is a 404 and the ETag is the tree id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync, unzipSync } from 'fflate';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';
import { createTokenService } from '../../src/access/tokens.js';
import { commitFiles, gitRunner, startServer, tempDirs } from '../http/helpers.js';
import { runGit } from '../helpers/git.js';

const dirs = tempDirs();
const ADMIN = 'admin-key-0123456789abcdef';
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let api: FetchHandler;
let work: string;
let commit: string;

const LONG_DIR = `long/${'d'.repeat(70)}/${'e'.repeat(50)}`;
const LONG_NAME = `${'n'.repeat(120)}.txt`;

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return (await api(new Request(`http://api.test/api/v1${path}`, { headers: { 'x-api-key': ADMIN, ...headers } })))!;
}

async function gitArchive(args: string[]): Promise<Uint8Array> {
  const r = await runGit(['archive', ...args], { cwd: work, env: { TZ: 'UTC' } });
  if (r.code !== 0) throw new Error(r.stderr);
  return new Uint8Array(r.stdout);
}

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({ path: dirs.make('lg-db-') });
  await engine.createRepo('arch');
  server = await startServer(createNodeHandler({ engine }) as never);
  api = createApiFetchHandler({ engine, tokens: createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } }), adminKey: ADMIN });
  work = dirs.make('lg-work-');
  await g.ok(['init', '-q', '-b', 'main', work]);
  await commitFiles(
    g,
    work,
    {
      'a.txt': 'hello\n',
      'empty.txt': '',
      'dir/sub/deep.txt': 'deep\n'.repeat(500),
      'dir/top.txt': 'top\n',
      [`${LONG_DIR}/file.txt`]: 'long path\n',
      [`wide/${LONG_NAME}`]: 'long name\n',
      'ünïcödé.txt': 'non-ascii\n',
      'bin.dat': '\0\x01\x02binary\0',
      'run.sh': '#!/bin/sh\necho hi\n',
    },
    'tree',
  );
  await g.ok(['update-index', '--chmod=+x', 'run.sh'], work);
  // A symlink to a.txt and one whose target is longer than a tar header holds, and a submodule.
  const short = await hashBlob('a.txt');
  const long = await hashBlob(`${'t'.repeat(150)}/target`);
  await g.ok(['update-index', '--add', '--cacheinfo', `120000,${short},link`], work);
  await g.ok(['update-index', '--add', '--cacheinfo', `120000,${long},dir/longlink`], work);
  await g.ok(['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},sub`], work);
  await g.ok(['commit', '-q', '-m', 'links'], work);
  commit = await g.ok(['rev-parse', 'HEAD'], work);
  await g.ok(['push', '-q', `${server.url}/arch.git`, 'main'], work);
});

async function hashBlob(content: string): Promise<string> {
  const r = await runGit(['hash-object', '-w', '--stdin'], { cwd: work, input: content });
  return r.stdout.toString().trim();
}

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

/** Central-directory records of a zip: name and every attribute git sets. */
function zipDirectory(zip: Uint8Array) {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (v.getUint32(end, true) !== 0x06054b50) end--;
  const count = v.getUint16(end + 10, true);
  let at = v.getUint32(end + 16, true);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    out.push({
      name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLen)),
      creator: v.getUint16(at + 4, true),
      flags: v.getUint16(at + 8, true),
      time: v.getUint16(at + 12, true),
      date: v.getUint16(at + 14, true),
      crc: v.getUint32(at + 16, true),
      size: v.getUint32(at + 24, true),
      internal: v.getUint16(at + 36, true),
      external: v.getUint32(at + 38, true),
      extra: Array.from(zip.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen)),
    });
    at += 46 + nameLen + extraLen;
  }
  const comment = new TextDecoder().decode(zip.subarray(end + 22, end + 22 + v.getUint16(end + 20, true)));
  return { entries: out, comment };
}

describe('archives', () => {
  it('writes the tar git archive writes, byte for byte', async () => {
    const res = await get('/repos/arch/archive?ref=main&format=tar');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const tree = await g.ok(['rev-parse', 'HEAD^{tree}'], work);
    expect(res.headers.get('etag')).toBe(`"${tree}"`);
    const ours = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(ours).equals(Buffer.from(await gitArchive(['--format=tar', commit])))).toBe(true);
  });

  it('with a prefix and a pathspec, as git does', async () => {
    for (const [query, args] of [
      ['prefix=p/', ['--prefix=p/', commit]],
      ['prefix=x-', ['--prefix=x-', commit]],
      ['path=dir', [commit, '--', 'dir']],
      ['path=dir/sub/deep.txt&prefix=q/', ['--prefix=q/', commit, '--', 'dir/sub/deep.txt']],
    ] as const) {
      const ours = new Uint8Array(await (await get(`/repos/arch/archive?ref=${commit}&${query}`)).arrayBuffer());
      expect(Buffer.from(ours).equals(Buffer.from(await gitArchive(['--format=tar', ...args]))), query).toBe(true);
    }
    const etag = (await get('/repos/arch/archive?path=dir')).headers.get('etag');
    expect(etag).toBe(`"${await g.ok(['rev-parse', 'HEAD:dir'], work)}"`);
  });

  it('gzips the same tar for tar.gz, and answers 304 to its ETag', async () => {
    const res = await get('/repos/arch/archive?format=tar.gz');
    expect(res.headers.get('content-type')).toBe('application/gzip');
    const tar = gunzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Buffer.from(tar).equals(Buffer.from(await gitArchive(['--format=tar', commit])))).toBe(true);
    const again = await get('/repos/arch/archive?format=tar.gz', { 'if-none-match': res.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it("writes git's zip: the same entries, attributes, comment and file bytes", async () => {
    const ours = new Uint8Array(await (await get('/repos/arch/archive?format=zip&prefix=z/')).arrayBuffer());
    const theirs = await gitArchive(['--format=zip', '--prefix=z/', commit]);
    const a = zipDirectory(ours);
    const b = zipDirectory(theirs);
    expect(a.comment).toBe(commit);
    expect(a).toEqual(b);
    const filesA = unzipSync(ours);
    const filesB = unzipSync(theirs);
    expect(Object.keys(filesA)).toEqual(Object.keys(filesB));
    for (const k of Object.keys(filesB)) expect(Buffer.from(filesA[k]!).equals(Buffer.from(filesB[k]!)), k).toBe(true);
    const exec = a.entries.find((e) => e.name === 'z/run.sh')!;
    expect(((exec.external as number) >>> 16).toString(8)).toBe('100755');
    const link = a.entries.find((e) => e.name === 'z/link')!;
    expect(((link.external as number) >>> 16).toString(8)).toBe('120777');
  });

  it('answers 404 for a missing path or ref and 400 for an unknown format', async () => {
    const missing = await get('/repos/arch/archive?path=nope');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('ERR_PATH_NOT_FOUND');
    expect((await get('/repos/arch/archive?ref=nope')).status).toBe(404);
    expect((await get('/repos/arch/archive?format=rar')).status).toBe(400);
  });
});
