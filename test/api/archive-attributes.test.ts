/**
 * `.gitattributes` in archives against `git archive` of the same commit: `export-ignore` (base
 * names, paths, `**`, classes, directories with and without a trailing `/`, a deeper file
 * overriding, `!attr`, macros, quoted patterns, a pathspec under an ignored directory) and
 * `export-subst` (the placeholders level-git expands) give git's tar byte for byte and git's
 * zip listing; a placeholder level-git does not expand is a 400 before the first byte, and the
 * objects of an archive being read survive a sweep after their ref is deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
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

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return (await api(new Request(`http://api.test/api/v1${path}`, { headers: { 'x-api-key': ADMIN, ...headers } })))!;
}

async function gitArchive(args: string[]): Promise<Uint8Array> {
  const r = await runGit(['archive', ...args], { cwd: work, env: { TZ: 'UTC' } });
  if (r.code !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(r.stdout);
}

/** The names and contents of a tar's entries (to show what differs). */
function tarList(tar: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar
      .subarray(at, at + 100)
      .toString('latin1')
      .replace(/\0.*$/s, '');
    if (name === '') break;
    const size = Number.parseInt(tar.subarray(at + 124, at + 136).toString('latin1'), 8) || 0;
    out.push(`${name} ${tar.subarray(at + 512, at + 512 + size).toString('latin1')}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const SUBST = [
  'H=$Format:%H$ h=$Format:%h$ T=$Format:%T$ t=$Format:%t$ P=$Format:%P$ p=$Format:%p$',
  'a=$Format:%an <%ae> %al|%ad|%aD|%ai|%aI|%as|%at$',
  'c=$Format:%cn <%ce> %cl|%cd|%cD|%ci|%cI|%cs|%ct$',
  's=$Format:%s$ f=$Format:%f$ e=[$Format:%e$]',
  'b=[$Format:%b$] B=[$Format:%B$]',
  'misc=$Format:%n%%%x41%xZZ%Cred%C(bold)%Creset%q%gd|%m$ unclosed $Format:%H',
  'nonascii=é $Format:é%an$',
].join('\n');

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({ path: dirs.make('lg-db-') });
  await engine.createRepo('attrs');
  server = await startServer(createNodeHandler({ engine }) as never);
  api = createApiFetchHandler({ engine, tokens: createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } }), adminKey: ADMIN });
  work = dirs.make('lg-work-');
  await g.ok(['init', '-q', '-b', 'main', work]);
  await commitFiles(g, work, { 'base.txt': 'base\n' }, 'first');
  await commitFiles(
    g,
    work,
    {
      '.gitattributes': [
        '# comment',
        '[attr]nodist export-ignore',
        '*.log export-ignore',
        '/build export-ignore',
        'docs/**/*.tmp export-ignore',
        'cache/ export-ignore',
        'vendor nodist',
        'secret[0-9].txt export-ignore',
        '"quoted name.txt" export-ignore',
        '!negated.txt export-ignore',
        'keep.log -export-ignore',
        'subst*.txt export-subst',
        'notsubst.txt export-subst',
        'notsubst.txt !export-subst',
        'sub/*.ign export-ignore',
        'ignored-dir export-ignore',
        'link export-subst',
      ].join('\n'),
      'app.log': 'x\n',
      'keep.log': 'kept\n',
      'src/deep/trace.log': 'x\n',
      'build/out.bin': 'x\n',
      'src/build/kept.txt': 'kept: /build is anchored\n',
      'docs/a/b/x.tmp': 'x\n',
      'docs/x.tmp': 'kept: ** needs a directory\n',
      'cache/c.txt': 'x\n',
      'src/cache': 'a file named cache: cache/ is for directories\n',
      'vendor/v.txt': 'x\n',
      'secret1.txt': 'x\n',
      'secretA.txt': 'kept\n',
      'quoted name.txt': 'x\n',
      'negated.txt': 'kept\n',
      'substA.txt': SUBST,
      'notsubst.txt': '$Format:%H$\n',
      'sub/.gitattributes': 'local.txt export-ignore\n*.ign -export-ignore\n',
      'sub/local.txt': 'x\n',
      'sub/keep.ign': 'kept: the deeper file wins\n',
      'sub/subst-deep.txt': 'deep $Format:%h$\n',
      'ignored-dir/inner/file.txt': 'x\n',
      'plain.txt': 'plain $Format:%H$\n',
    },
    'subject line one\nstill subject  \n\nbody line\n\nmore body\n',
  );
  const target = (await runGit(['hash-object', '-w', '--stdin'], { cwd: work, input: '$Format:%H$' })).stdout.toString().trim();
  await g.ok(['update-index', '--add', '--cacheinfo', `120000,${target},link`], work);
  await g.ok(['-c', 'user.name=Zoë Committer', 'commit', '-q', '-m', 'link'], work);
  commit = await g.ok(['rev-parse', 'HEAD'], work);
  await g.ok(['push', '-q', `${server.url}/attrs.git`, 'main'], work);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('archives honour .gitattributes as git archive does', () => {
  it('tar: export-ignore and export-subst give git archive bytes', async () => {
    for (const [query, args] of [
      ['', [commit]],
      ['prefix=p/', ['--prefix=p/', commit]],
      ['path=sub', [commit, '--', 'sub']],
      ['path=src', [commit, '--', 'src']],
      ['path=ignored-dir/inner', [commit, '--', 'ignored-dir/inner']],
      ['path=substA.txt', [commit, '--', 'substA.txt']],
    ] as const) {
      const res = await get(`/repos/attrs/archive?ref=${commit}&format=tar&${query}`);
      expect(res.status, query).toBe(200);
      const ours = Buffer.from(await res.arrayBuffer());
      const theirs = Buffer.from(await gitArchive(['--format=tar', ...args]));
      if (!ours.equals(theirs)) expect({ query, ours: tarList(ours) }).toEqual({ query, ours: tarList(theirs) });
      expect(ours.equals(theirs), query).toBe(true);
    }
  });

  it('zip: the same listing and file bytes as git', async () => {
    const ours = unzipSync(new Uint8Array(await (await get(`/repos/attrs/archive?ref=${commit}&format=zip`)).arrayBuffer()));
    const theirs = unzipSync(await gitArchive(['--format=zip', commit]));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    for (const k of Object.keys(theirs)) expect(Buffer.from(ours[k]!).toString('latin1'), k).toBe(Buffer.from(theirs[k]!).toString('latin1'));
    expect(Object.keys(ours)).not.toContain('app.log');
    expect(Buffer.from(ours['substA.txt']!).toString()).toContain(`H=${commit}`);
  });

  it('the ETag names the commit too when export-subst expanded a file', async () => {
    const res = await get(`/repos/attrs/archive?ref=${commit}`);
    const tree = await g.ok(['rev-parse', `${commit}^{tree}`], work);
    expect(res.headers.get('etag')).toBe(`"${tree}-${commit}"`);
    await res.arrayBuffer();
    const plain = await get(`/repos/attrs/archive?ref=${commit}&path=src`);
    expect(plain.headers.get('etag')).toBe(`"${await g.ok(['rev-parse', `${commit}:src`], work)}"`);
  });

  it('refuses (400, before any byte) a placeholder git expands from state level-git does not have', async () => {
    await commitFiles(g, work, { 'subst-mailmap.txt': 'by $Format:%aN$\n' }, 'mailmap');
    await g.ok(['push', '-q', `${server.url}/attrs.git`, 'main'], work);
    const res = await get('/repos/attrs/archive?ref=main');
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(body.error.message).toContain('subst-mailmap.txt');
    expect(body.error.message).toContain('%aN');
    await g.ok(['reset', '-q', '--hard', 'HEAD~1'], work);
    await g.ok(['push', '-q', '-f', `${server.url}/attrs.git`, 'main'], work);
  });
});

describe('archives and the sweep', () => {
  it('an archive being read keeps its objects when its ref is deleted and the sweep runs', async () => {
    const repo = await engine.getRepo('attrs');
    await commitFiles(g, work, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`gone/f${i}.txt`, `unique ${i} ${'x'.repeat(2000)}\n`])), 'doomed');
    const doomed = await g.ok(['rev-parse', 'HEAD'], work);
    await g.ok(['push', '-q', `${server.url}/attrs.git`, `${doomed}:refs/heads/doomed`], work);
    await g.ok(['reset', '-q', '--hard', 'HEAD~1'], work);
    const a = await repo.archive('doomed', { format: 'tar' });
    const it = a.body[Symbol.asyncIterator]();
    const parts: Uint8Array[] = [(await it.next()).value!];
    await repo.deleteBranch('doomed');
    const swept = await repo.sweep();
    expect(swept.objects).toBeLessThan(10); // the doomed commit's 300 files are pinned while the archive streams
    for (let n = await it.next(); !n.done; n = await it.next()) parts.push(n.value);
    const theirs = Buffer.from(await gitArchive(['--format=tar', doomed]));
    expect(Buffer.concat(parts).equals(theirs)).toBe(true);
    expect((await repo.sweep()).objects).toBeGreaterThan(300); // released at the end: now collected
  });
});
