/**
 * A big blob that arrives as a delta against a big base (issue 10, bounded ingest), pushed to
 * `level-git serve` (on disk) as a raw pack: the base is streamed into chunks, the delta's
 * result (twice the base) is applied as a stream, hashed and deflated into chunks, never held
 * whole; a second push sends a delta before its streamed base (half the size). While each push
 * runs, /healthz is polled and the server's RSS sampled (total, and anonymous: heap and
 * buffers, without the database's files mapped while chunks are read back); the clone back
 * passes `git fsck --strict`. Size: LEVEL_GIT_BIG_DELTA_MIB, the base (default 64: a 128 MiB
 * result, so the test runs in about a minute; docs/benchmarks.md quotes a run at 128).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { adminApi, generatedAdminKey, startCli, type ServeProcess } from '../cli/cli-helpers.js';
import { gitRunner } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { encodeEntryHeader, encodePackEntry } from '../../src/pack/entry.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { encodeRefDelta } from '../../src/object/packed.js';
import { encodeTree } from '../../src/object/tree.js';
import { encodeCommit } from '../../src/object/commit.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { concat } from '../../src/platform/bytes.js';
import { createHash } from 'node:crypto';
import { varint, copyOp } from '../pack/crafted-packs.js';
import { sampleRss } from '../helpers/rss.js';

const MiB = 1024 * 1024;
const BASE_MIB = Number(process.env.LEVEL_GIT_BIG_DELTA_MIB ?? 64);
/**
 * Issue 10's target: +256 MiB over the baseline whatever the pack (the old code held the base and
 * the result whole, 384 MiB of bodies alone; before this bound the streamed path took +371 MiB).
 * Measured: +190 to +231 MiB in all, +128 to +164 MiB anonymous at load 6 to 20; on an idle
 * machine, where the push outruns the garbage collector, +223 to +260 MiB in all and +156 to +196
 * MiB anonymous (the code of 2026-12-02 before and after that day's changes alike). The anonymous
 * part (heap, buffers, the database's memtables: what the engine controls) is held to the target;
 * the total gets 32 MiB more for the ~67 MiB of the database's table files mapped while the base's
 * chunks are read back (pages the kernel may drop, which the engine does not control), so the test
 * is not flaky at the edge of the target. docs/benchmarks.md has the figures.
 */
const RSS_BOUND = (256 + 32) * MiB;
const ANON_BOUND = 256 * MiB;
/** Issue 10's target is 100 ms; this bound only says /healthz kept answering on a loaded machine. */
const HEALTHZ_BOUND_MS = 5000;
const who = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };

let server: ServeProcess;
let tmp: { dir: string; cleanup: () => void };
let pushUrl: URL;
/** Set when the server process exits before the test stops it: the code or signal, for the failure message. */
let exited: string | undefined;
let stopping = false;

function pkt(s: string): Uint8Array {
  return new TextEncoder().encode((s.length + 4).toString(16).padStart(4, '0') + s);
}

/** One GET /healthz on a connection of its own (no keep-alive socket to go stale while the test process is busy). */
function healthz(): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${server.url}/healthz`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Posts a receive-pack request creating `ref` at `commit` with `pack`, polling /healthz and sampling RSS meanwhile. */
async function push(name: string, ref: string, commit: Oid, pack: Uint8Array) {
  const body = concat([pkt(`${'0'.repeat(40)} ${commit} ${ref}\0report-status\n`), new TextEncoder().encode('0000'), pack]);
  const sampler = sampleRss(server.child.pid!, 20);
  let healthzMax = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      const t = performance.now();
      await healthz();
      healthzMax = Math.max(healthzMax, performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  let answered: string | undefined;
  const sent = new Promise<string>((resolve, reject) => {
    const auth = `Basic ${Buffer.from(`${decodeURIComponent(pushUrl.username)}:${decodeURIComponent(pushUrl.password)}`).toString('base64')}`;
    // A connection of its own: a kept-alive one from the previous push is closed by the server
    // after 5 idle seconds, and building the next pack under load takes longer (that socket,
    // reused before this process noticed the close, failed the push with EPIPE).
    const req = request(
      {
        agent: false,
        host: pushUrl.hostname,
        port: pushUrl.port,
        path: `${pushUrl.pathname}/git-receive-pack`,
        method: 'POST',
        headers: { 'content-type': 'application/x-git-receive-pack-request', 'content-length': body.length, authorization: auth },
      },
      (res) => {
        answered = `HTTP ${res.statusCode}`;
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => {
          parts.push(d);
          answered = `HTTP ${res.statusCode}: ${Buffer.concat(parts).toString('latin1').slice(0, 500)}`;
        });
        res.on('end', () => resolve(Buffer.concat(parts).toString('latin1')));
        res.on('error', reject);
      },
    );
    // The request fails when the server closes the connection: say whether it answered first, and whether it still runs.
    req.on('error', (err) => {
      const t = performance.now() - t0;
      setTimeout(
        () => reject(new Error(`${name}: ${err.message} after ${Math.round(t)} ms; answer: ${answered ?? 'none'}; ${exited ?? 'the server is running'}`)),
        500,
      );
    });
    req.end(body);
  });
  let text: string;
  try {
    text = await sent;
  } finally {
    running = false;
    await poll.catch(() => undefined);
  }
  const ms = performance.now() - t0;
  const { growth, anonGrowth } = sampler.stop();
  console.log(
    `${name}: pack ${Math.round(pack.length / MiB)} MiB, ${(ms / 1000).toFixed(1)} s, RSS +${Math.round(growth / MiB)} MiB (anonymous +${Math.round(anonGrowth / MiB)} MiB), healthz max ${Math.round(healthzMax)} ms`,
  );
  return { text, growth, anonGrowth, healthzMaxMs: healthzMax };
}

/** A commit of `files` (name -> blob id) as pack entries. */
function commitOf(files: Record<string, Oid>, message: string): { entries: Uint8Array[]; oid: Oid } {
  const tree = encodeTree(Object.entries(files).map(([name, oid]) => ({ mode: '100644', name, oid })));
  const commit = encodeCommit({ tree: hashObject('tree', tree), parents: [], author: who, committer: who, message });
  return { entries: [encodePackEntry('tree', tree), encodePackEntry('commit', commit)], oid: hashObject('commit', commit) };
}

/** The blob id of `a` then `b`, hashed without building it. */
function blobId(parts: Uint8Array[]): Oid {
  const h = createHash('sha1').update(`blob ${parts.reduce((n, p) => n + p.length, 0)}\0`);
  for (const p of parts) h.update(p);
  return h.digest('hex') as Oid;
}

beforeAll(async () => {
  tmp = tempDir('level-git-bigdelta-');
  server = await startCli(['--port', '0', '--data', join(tmp.dir, 'data'), '--sweep-interval', '0']);
  server.child.once('exit', (code, signal) => {
    if (stopping) return;
    exited = `the server exited (code ${code}, signal ${signal})`;
    console.log(`${exited}; its last output:\n${server.output().slice(-4000)}`);
  });
  const adminKey = generatedAdminKey(server);
  const api = adminApi(server, adminKey);
  expect((await api('/repos', { name: 'big' })).status).toBe(201);
  pushUrl = new URL(((await (await api('/repos/big/remote-url', { permissions: ['git:read', 'git:write'] })).json()) as { url: string }).url);
}, 60_000);

afterAll(async () => {
  stopping = true;
  await server?.stop();
  tmp?.cleanup();
});

describe(`a ${2 * BASE_MIB} MiB blob sent as a delta against a ${BASE_MIB} MiB base`, () => {
  it('is applied as a stream with bounded memory, /healthz answering, and clones back intact', async () => {
    const size = BASE_MIB * MiB;
    const base = new Uint8Array(randomBytes(size));
    const baseOid = hashObject('blob', base);
    // Twice the base with a word between: copies of up to 16 MiB.
    const mark = new TextEncoder().encode('edited');
    const ops: number[] = [...varint(size), ...varint(2 * size + mark.length)];
    const twice = () => {
      for (let at = 0; at < size; at += 8 * MiB) ops.push(...copyOp(at, Math.min(8 * MiB, size - at)));
    };
    twice();
    ops.push(mark.length, ...mark);
    twice();
    const twiceOid = blobId([base, mark, base]);
    const first = commitOf({ 'base.bin': baseOid, 'twice.bin': twiceOid }, 'twice\n');
    // The base stored, not deflated (the test measures the server, not zlib on random bytes).
    const baseEntry = concat([encodeEntryHeader(3, size), new Uint8Array(deflateSync(base, { level: 0 }))]);
    const pack = writePackSync([baseEntry, encodeRefDelta(oidToBytes(baseOid), Uint8Array.from(ops)), ...first.entries]);
    const r = await push(`${2 * BASE_MIB} MiB delta result on a ${BASE_MIB} MiB base`, 'refs/heads/main', first.oid, pack);
    expect(r.text).toContain('unpack ok');
    expect(r.text).toContain('ok refs/heads/main');
    expect(r.growth).toBeLessThan(RSS_BOUND);
    expect(r.anonGrowth).toBeLessThan(ANON_BOUND);
    expect(r.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);

    // A delta sent before its (streamed) base: a line inserted before the base's bytes. Its
    // declared result counts against maxDeferredBytes (256 MiB) while it waits: half the base.
    const half = size / 2;
    const base2 = new Uint8Array(randomBytes(half));
    const base2Oid = hashObject('blob', base2);
    const line = new TextEncoder().encode('a line before\n');
    const before: number[] = [...varint(half), ...varint(line.length + half), line.length, ...line];
    for (let at = 0; at < half; at += 8 * MiB) before.push(...copyOp(at, Math.min(8 * MiB, half - at)));
    const backOid = blobId([line, base2]);
    const second = commitOf({ 'base2.bin': base2Oid, 'before.bin': backOid }, 'before\n');
    const base2Entry = concat([encodeEntryHeader(3, half), new Uint8Array(deflateSync(base2, { level: 0 }))]);
    const pack2 = writePackSync([encodeRefDelta(oidToBytes(base2Oid), Uint8Array.from(before)), base2Entry, ...second.entries]);
    const r2 = await push(`${BASE_MIB / 2} MiB delta sent before its base`, 'refs/heads/back', second.oid, pack2);
    expect(r2.text).toContain('ok refs/heads/back');
    expect(r2.growth).toBeLessThan(RSS_BOUND);
    expect(r2.anonGrowth).toBeLessThan(ANON_BOUND);
    expect(r2.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);

    const { ok } = gitRunner(tmp.dir);
    const clone = join(tmp.dir, 'clone');
    await ok(['clone', '-q', '--no-checkout', pushUrl.href, clone]);
    await ok(['fsck', '--strict'], clone);
    expect(await ok(['rev-parse', 'origin/main:twice.bin'], clone)).toBe(twiceOid);
    expect(await ok(['rev-parse', 'origin/back:before.bin'], clone)).toBe(backOid);
  }, 900_000);
});
