/**
 * A long history of small edits (bench/shared/edit-history.ts), packed by `git pack-objects`:
 * stored bytes against the pack's size, `repo.indexPack` (on-disk classic-level) against
 * `git index-pack --strict`, and a full clone over HTTP from level-git (in-process node handler)
 * against `git http-backend`. One sample each (a measurement, not a benchmark suite).
 * Run: node --import tsx bench/engine/store-history.ts [commits=3000]
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openEngine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { makeEditHistory } from '../shared/edit-history.js';
import { startHttpBackend } from '../e2e/servers/http-backend.js';
import { git } from './common.js';
import { gitOk } from '../shared/exec.js';

const commits = Number(process.argv[2] ?? 3000);
const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-store-'));
const work = join(tmp, 'work');
let t = performance.now();
makeEditHistory(work, { commits });
console.log(`history: ${commits} commits in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const pack = new Uint8Array(git(work, ['pack-objects', '--revs', '--stdout', '-q', '--delta-base-offset'], 'main\n'));
const objects = new DataView(pack.buffer, pack.byteOffset).getUint32(8);
const tip = git(work, ['rev-parse', 'main']).toString().trim();
console.log(`pack: ${(pack.length / 1e6).toFixed(2)} MB, ${objects} objects`);

const root = join(tmp, 'cgit');
const bare = join(root, 'hist.git');
git(tmp, ['init', '-q', '--bare', bare]);
t = performance.now();
git(bare, ['index-pack', '--strict', '--stdin'], pack);
const cgitIndex = performance.now() - t;
git(bare, ['update-ref', 'refs/heads/main', tip]);
git(bare, ['symbolic-ref', 'HEAD', 'refs/heads/main']);

const dbPath = join(tmp, 'db');
const engine = await openEngine({ path: dbPath, packCache: { maxBytes: 0 } });
const repo = await engine.createRepo('hist');
const chunks: Uint8Array[] = [];
for (let i = 0; i < pack.length; i += 65536) chunks.push(pack.subarray(i, i + 65536));
t = performance.now();
await repo.indexPack(chunks);
const lgIndex = performance.now() - t;
let logical = 0;
await engine.close();
{
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dbPath, { keyEncoding: 'view', valueEncoding: 'view' });
  for await (const [k, v] of raw.iterator()) logical += k.length + v.length;
  await raw.compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
  await raw.close();
}
const disk = readdirSync(dbPath).reduce((n, f) => n + statSync(join(dbPath, f)).size, 0);
console.log(
  `stored: ${(logical / 1e6).toFixed(2)} MB of keys+values (${(logical / pack.length).toFixed(2)}x the pack), ${(disk / 1e6).toFixed(2)} MB on disk after compaction`,
);
console.log(
  `index: level-git ${(lgIndex / 1000).toFixed(2)} s, git index-pack --strict ${(cgitIndex / 1000).toFixed(2)} s (${(lgIndex / cgitIndex).toFixed(2)}x)`,
);

const served = await openEngine({ path: dbPath, packCache: { maxBytes: 0 } });
await (await served.getRepo('hist')).createBranch('main', tip).catch(() => undefined);
const server = createServer(createNodeHandler({ engine: served }) as never);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const lgUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hist.git`;
const cgit = await startHttpBackend(root);
// Asynchronous: the level-git server runs in this process.
const clone = async (url: string, dir: string, extra: string[] = []) => {
  const s = performance.now();
  await gitOk(['clone', '-q', '--bare', ...extra, url, join(tmp, dir)], tmp);
  return performance.now() - s;
};
// Let the background materialization of the branch's tip finish before timing depth-1 clones.
await new Promise((r) => setTimeout(r, 2000));
const rows: [string, number, number][] = [
  ['full clone', await clone(lgUrl, 'lg-full'), await clone(cgit.url('hist'), 'cg-full')],
  ['depth-1 clone', await clone(lgUrl, 'lg-d1', ['--depth', '1']), await clone(cgit.url('hist'), 'cg-d1', ['--depth', '1'])],
];
for (const [what, lg, cg] of rows)
  console.log(`${what}: level-git ${(lg / 1000).toFixed(2)} s, git http-backend ${(cg / 1000).toFixed(2)} s (${(lg / cg).toFixed(2)}x)`);
git(join(tmp, 'lg-full'), ['fsck', '--strict', '--no-progress']);
await cgit.stop();
server.close();
await served.close();
rmSync(tmp, { recursive: true, force: true });
