/**
 * The fsck checks as stock git sees them: `git push` of objects `receive.fsckObjects` refuses
 * (built in a local repository with `hash-object --literally`, which git's own tools allow)
 * against createNodeHandler. Git must print the refusal with git's message id (its
 * `remote unpack failed: ...` line, from our `unpack <reason>`), exit non-zero, and the ref
 * must not exist afterwards. Objects of the wrong type, which git's pack-objects cannot even
 * send, are posted as raw receive-pack requests. A downgraded check lets the same push through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { concat, fromUtf8, utf8 } from '../../src/platform/bytes.js';
import { hashObject, type ObjectType } from '../../src/object/oid.js';
import { encodePacked } from '../../src/object/packed.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { encodePktLine, FLUSH_PKT } from '../../src/protocol/pkt-line.js';
import { gitEnv, runGit } from '../helpers/git.js';
import { startServer, tempDirs } from './helpers.js';

const ZERO = '0'.repeat(40);
const dirs = tempDirs();
type Served = { engine: Engine; server: { url: string; close(): Promise<void> } };
let strict: Served;
let lenient: Served;
let env: Record<string, string>;
let work: string;

const IDENT = 'A <a@example.com> 1700000000 +0000';

async function git(args: string[], input?: string | Uint8Array): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runGit(args, { cwd: work, env, input });
  return { code: r.code, stdout: r.stdout.toString().trim(), stderr: r.stderr };
}
async function ok(args: string[], input?: string | Uint8Array): Promise<string> {
  const r = await git(args, input);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** Writes a raw object into the local repository (git's porcelain would refuse to build it). */
const literally = (type: ObjectType, body: string | Uint8Array) => ok(['hash-object', '-t', type, '--literally', '-w', '--stdin'], body);
const rawTree = (entries: [mode: string, name: string, oid: string][]) =>
  concat(entries.map(([m, n, o]) => concat([utf8(`${m} ${n}\0`), Buffer.from(o, 'hex')])));

async function serve(options: Parameters<typeof openEngine>[0]): Promise<Served> {
  const engine = await openEngine(options);
  await engine.createRepo('r');
  return { engine, server: await startServer(createNodeHandler({ engine }) as never) };
}

beforeAll(async () => {
  env = gitEnv(dirs.make('lg-fsck-home-'));
  strict = await serve({ db: new MemoryLevel() as never });
  lenient = await serve({ db: new MemoryLevel() as never, fsck: { severities: { badTimezone: 'warn' } } });
  work = join(dirs.make('lg-fsck-work-'), 'w');
  await runGit(['init', '-q', work], { env });
});
afterAll(async () => {
  for (const s of [strict, lenient]) {
    await s.server.close();
    await s.engine.close();
  }
  dirs.cleanup();
});

/** A commit of one hostile tree entry, written into the local repository. */
async function hostileTree(name: string, mode = '100644', content = 'x\n'): Promise<string> {
  const blob = await literally('blob', content);
  const tree = await literally('tree', rawTree([[mode, name, blob]]));
  return literally('commit', `tree ${tree}\nauthor ${IDENT}\ncommitter ${IDENT}\n\nhostile\n`);
}

async function expectRefused(commit: string, id: string, ref = 'refs/heads/evil'): Promise<void> {
  const url = `${strict.server.url}/r.git`;
  const r = await git(['push', url, `${commit}:${ref}`]);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(new RegExp(`remote unpack failed: .*${id}`));
  expect(r.stderr).toContain('unpacker error');
  expect(r.stderr).not.toContain('RPC failed');
  expect(await ok(['ls-remote', url])).not.toContain(ref);
  expect(await (await strict.engine.getRepo('r')).getRef(ref)).toBeUndefined();
}

describe('stock git push of payloads receive.fsckObjects refuses', () => {
  it('a tree entry .g\\u200cit (hasDotgit)', async () => {
    await expectRefused(await hostileTree('.g\u200cit'), 'hasDotgit');
  });

  it('a directory .git::$INDEX_ALLOCATION (hasDotgit)', async () => {
    const inner = await literally('tree', rawTree([['100644', 'config', await literally('blob', '[core]\n')]]));
    const outer = await literally('tree', rawTree([['40000', '.git::$INDEX_ALLOCATION', inner]]));
    await expectRefused(await literally('commit', `tree ${outer}\nauthor ${IDENT}\ncommitter ${IDENT}\n\nx\n`), 'hasDotgit');
  });

  it('a .gitmodules with a submodule name climbing into .git (gitmodulesName)', async () => {
    await expectRefused(
      await hostileTree('.gitmodules', '100644', '[submodule "../../../../.git/modules/x"]\n\tpath = x\n\turl = https://example.com/x\n'),
      'gitmodulesName',
    );
  });

  it('a commit with timezone +99999 (badTimezone), accepted where it is downgraded', async () => {
    const tree = await literally('tree', rawTree([['100644', 'f', await literally('blob', 'f\n')]]));
    const commit = await literally('commit', `tree ${tree}\nauthor A <a@example.com> 1700000000 +99999\ncommitter ${IDENT}\n\nzone\n`);
    await expectRefused(commit, 'badTimezone');
    const r = await git(['push', `${lenient.server.url}/r.git`, `${commit}:refs/heads/zone`]);
    expect(r.code, r.stderr).toBe(0);
    // The downgraded finding reaches the pusher, as git's receive-pack reports it.
    expect(r.stderr).toMatch(new RegExp(`remote: warning: commit ${commit}: badTimezone: `));
    expect(await ok(['ls-remote', `${lenient.server.url}/r.git`])).toContain(`${commit}\trefs/heads/zone`);
  });
});

describe('raw receive-pack requests with objects of the wrong type', () => {
  const entry = (type: ObjectType, body: Uint8Array | string) => {
    const b = typeof body === 'string' ? utf8(body) : body;
    return { oid: hashObject(type, b), bytes: encodePacked(type, b) };
  };

  async function post(tip: string, entries: { bytes: Uint8Array }[]): Promise<string> {
    const body = concat([encodePktLine(`${ZERO} ${tip} refs/heads/typed\0report-status`), FLUSH_PKT, writePackSync(entries.map((e) => e.bytes))]);
    const res = await fetch(`${strict.server.url}/r.git/git-receive-pack`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-git-receive-pack-request' },
      body: Buffer.from(body),
    });
    expect(res.status).toBe(200);
    return fromUtf8(new Uint8Array(await res.arrayBuffer()));
  }

  it('a commit whose tree is a blob, a 40000 entry on a blob, a 100644 entry on a tree, a parent that is a blob', async () => {
    const blob = entry('blob', 'b\n');
    const tree = entry('tree', rawTree([['100644', 'f', blob.oid]]));
    const commitOf = (t: string, parents: string[] = []) =>
      entry('commit', `tree ${t}\n${parents.map((p) => `parent ${p}\n`).join('')}author ${IDENT}\ncommitter ${IDENT}\n\nx\n`);
    const dirOnBlob = entry('tree', rawTree([['40000', 'd', blob.oid]]));
    const fileOnTree = entry('tree', rawTree([['100644', 'f', tree.oid]]));
    const cases: [tip: string, entries: { bytes: Uint8Array }[], message: RegExp][] = [
      [commitOf(blob.oid).oid, [commitOf(blob.oid), blob], /tree [0-9a-f]{40} is a blob, not a tree/],
      [commitOf(dirOnBlob.oid).oid, [commitOf(dirOnBlob.oid), dirOnBlob, blob], /entry "d" [0-9a-f]{40} is a blob, not a tree/],
      [commitOf(fileOnTree.oid).oid, [commitOf(fileOnTree.oid), fileOnTree, tree, blob], /entry "f" [0-9a-f]{40} is a tree, not a blob/],
      [commitOf(tree.oid, [blob.oid]).oid, [commitOf(tree.oid, [blob.oid]), tree, blob], /parent [0-9a-f]{40} is a blob, not a commit/],
    ];
    for (const [tip, entries, message] of cases) {
      const report = await post(tip, entries);
      expect(report).toMatch(/unpack commit [0-9a-f]{40}: |unpack tree [0-9a-f]{40}: /);
      expect(report).toMatch(message);
      expect(report).toContain('ng refs/heads/typed unpacker error');
    }
    expect(await (await strict.engine.getRepo('r')).getRef('refs/heads/typed')).toBeUndefined();
  });
});
