/**
 * Request parsing against bodies sent by real git 2.39. The bodies are recorded by this test
 * (a recording server in front of the node handler, over the fake backend), and the want/deepen
 * lines are cross-checked against git's own GIT_TRACE_PACKET output of the same run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { encodePkt, PktReader } from '../../src/protocol/pkt-line.js';
import { serveUploadPackV0, serveUploadPackV2 } from '../../src/protocol/upload-pack.js';
import { parseFetchArgs, readV0FetchRequest } from '../../src/protocol/fetch-request.js';
import { parseLsRefsArgs } from '../../src/protocol/ls-refs.js';
import { readV2Command } from '../../src/protocol/v2-command.js';
import { readPushRequest } from '../../src/protocol/receive-pack.js';
import { collect, fromUtf8 } from '../../src/platform/bytes.js';
import { GitDirBackend } from './fake-backend.js';
import { commitFiles, gitRunner, startServer, tempDirs } from '../http/helpers.js';
import type { Oid } from '../../src/object/oid.js';

interface Recorded {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Builds a request body: strings become pkt-lines (with LF), '0000'/'0001' stay special. */
function body(...lines: string[]): Buffer {
  return Buffer.concat(lines.map((l) => (l === '0000' || l === '0001' ? Buffer.from(l) : Buffer.from(encodePkt(l + '\n')))));
}

/** Payloads git says it sent (`packet: <prog>> <payload>` lines of GIT_TRACE_PACKET). */
function sentLines(trace: string): string[] {
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    const m = /packet:\s+[\w-]+> (.*)$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

describe('request parsing with bodies recorded from git 2.39', () => {
  const tmp = tempDirs();
  const recorded: Recorded[] = [];
  let backend: GitDirBackend & { cleanup(): void };
  let server: { url: string; close(): Promise<void> };
  let g: ReturnType<typeof gitRunner>;
  let tip: string;
  let traceV2 = '';
  let traceV0 = '';

  const bodies = (service: string) => recorded.filter((r) => r.url.endsWith(service)).map((r) => r.body);

  beforeAll(async () => {
    backend = await GitDirBackend.create();
    const handler = createNodeHandler({ engine: { gitBackend: async () => backend } });
    server = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
      let body = Buffer.concat(
        await (async () => {
          const a: Buffer[] = [];
          for await (const c of req) a.push(c as Buffer);
          return a;
        })(),
      );
      if (req.method === 'POST') {
        recorded.push({ url: req.url!, headers: req.headers, body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body });
      }
      const replay = Object.assign(Readable.from([body]), { url: req.url, method: req.method, headers: req.headers }) as unknown as IncomingMessage;
      body = Buffer.alloc(0);
      handler(replay, res);
    });
    g = gitRunner(tmp.make());
    const work = tmp.make();
    await g.ok(['init', '-q', '-b', 'main', work]);
    for (let i = 1; i <= 3; i++) tip = await commitFiles(g, work, { 'a.txt': `${i}\n` }, `c${i}`);
    await g.ok(['push', '-q', `${server.url}/r.git`, 'main'], work);
    const t2 = join(tmp.make(), 'trace');
    await g.ok(['-c', 'protocol.version=2', 'clone', '-q', '--depth', '1', '--single-branch', `${server.url}/r.git`, join(tmp.make(), 'c')], undefined, {
      GIT_TRACE_PACKET: t2,
    });
    traceV2 = readFileSync(t2, 'utf8');
    const t0 = join(tmp.make(), 'trace');
    await g.ok(['-c', 'protocol.version=0', 'clone', '-q', '--depth', '1', '--single-branch', `${server.url}/r.git`, join(tmp.make(), 'c')], undefined, {
      GIT_TRACE_PACKET: t0,
    });
    traceV0 = readFileSync(t0, 'utf8');
  });

  afterAll(async () => {
    await server?.close();
    backend?.cleanup();
    tmp.cleanup();
  });

  it('parses the v2 ls-refs of a --single-branch clone', async () => {
    const lsRefs = recorded.find((r) => r.url.endsWith('git-upload-pack') && r.headers['git-protocol'] === 'version=2' && r.body.includes('command=ls-refs'));
    expect(lsRefs).toBeDefined();
    const cmd = (await readV2Command(new PktReader(once(lsRefs!.body))))!;
    expect(cmd.command).toBe('ls-refs');
    expect(cmd.capabilities).toContain('object-format=sha1');
    expect(cmd.capabilities.some((c) => c.startsWith('agent=git/2.'))).toBe(true);
    const args = parseLsRefsArgs(cmd.args);
    expect(args).toMatchObject({ symrefs: true, peel: true, unborn: true });
    expect(args.prefixes).toEqual(expect.arrayContaining(['HEAD', 'refs/heads/', 'refs/tags/']));
  });

  it('parses the v2 fetch of a --depth 1 clone, matching GIT_TRACE_PACKET', async () => {
    const fetch = recorded.find((r) => r.headers['git-protocol'] === 'version=2' && r.body.includes('command=fetch'))!;
    const cmd = (await readV2Command(new PktReader(once(fetch.body))))!;
    expect(cmd.command).toBe('fetch');
    const f = parseFetchArgs(cmd.args);
    expect(f.request.wants).toEqual([tip]);
    expect(f.request.depth).toBe(1);
    expect(f).toMatchObject({ done: true, noProgress: true });
    expect(f.request).toMatchObject({ thinPack: true, ofsDelta: true, includeTag: true });
    // The trace shows what git meant to send, line by line.
    const sent = sentLines(traceV2);
    for (const a of cmd.args) expect(sent).toContain(a);
    expect(sent).toEqual(expect.arrayContaining([`want ${tip}`, 'deepen 1', 'done']));
    expect(traceV2).toMatch(new RegExp(`< shallow ${tip}`));
  });

  it('parses the v0 stateless requests of a --depth 1 clone (deepen round, then done)', async () => {
    const v0 = bodies('git-upload-pack').filter((b) => b.includes(`want ${tip} `) && !b.includes('command='));
    expect(v0.length).toBe(2);
    const first = (await readV0FetchRequest(new PktReader(once(v0[0]!))))!;
    expect(first.wantsOnly).toBe(true);
    expect(first.request.depth).toBe(1);
    expect([...first.capabilities.keys()]).toEqual(expect.arrayContaining(['multi_ack_detailed', 'side-band-64k', 'thin-pack', 'ofs-delta', 'include-tag']));
    const second = (await readV0FetchRequest(new PktReader(once(v0[1]!))))!;
    expect(second.done).toBe(true);
    expect(second.request.wants).toEqual([tip]);
    const sent = sentLines(traceV0);
    expect(sent.some((l) => l.startsWith(`want ${tip} multi_ack_detailed`))).toBe(true);
    expect(sent).toEqual(expect.arrayContaining(['deepen 1', 'done']));
  });

  it('parses the push request: commands, capabilities, then the pack', async () => {
    const push = bodies('git-receive-pack')[0]!;
    const reader = new PktReader(once(push));
    const p = (await readPushRequest(reader))!;
    expect(p.commands).toEqual([{ oldOid: '0'.repeat(40), newOid: tip, ref: 'refs/heads/main' }]);
    expect([...p.capabilities.keys()]).toEqual(expect.arrayContaining(['report-status-v2', 'side-band-64k', 'object-format']));
    const pack = await collect(reader.rest());
    expect(fromUtf8(pack.subarray(0, 4))).toBe('PACK');
  });

  it('answers a v2 fetch with an invalid want by refusing before any output', async () => {
    await expect(serveUploadPackV2(backend, once(body('command=fetch', '0001', `want ${'f'.repeat(40)}`, 'done', '0000')))).rejects.toThrow(
      /not our ref f{40}/,
    );
    await expect(serveUploadPackV0(backend, once(body(`want ${'e'.repeat(40)}`, '0000', 'done')))).rejects.toThrow(/not our ref e{40}/);
  });

  it('v2 negotiation without done: NAK for unknown haves, ACK + ready + pack for a common one', async () => {
    const want = `want ${tip}`;
    let out = fromUtf8(await collect(await serveUploadPackV2(backend, once(body('command=fetch', '0001', want, `have ${'a'.repeat(40)}`, '0000')))));
    expect(out).toBe('0014acknowledgments\n0008NAK\n0000');
    const parent = (await backend.listRefs()).find((r) => r.name === 'refs/heads/main')!.oid!;
    const bytes = await collect(await serveUploadPackV2(backend, once(body('command=fetch', '0001', want, `have ${parent}`, '0000'))));
    out = fromUtf8(bytes.subarray(0, 120));
    expect(out.startsWith(`0014acknowledgments\n0031ACK ${parent}\n000aready\n0001000dpackfile\n`)).toBe(true);
    expect(fromUtf8(bytes.subarray(bytes.length - 4))).toBe('0000');
    // wait-for-done: never ready on its own.
    out = fromUtf8(await collect(await serveUploadPackV2(backend, once(body('command=fetch', '0001', want, `have ${parent}`, 'wait-for-done', '0000')))));
    expect(out).toBe(`0014acknowledgments\n0031ACK ${parent}\n0000`);
  });

  it('v0 negotiation round: ACK common, ACK ready, NAK; then ACK on done before the pack', async () => {
    const parent = (await backend.listRefs()).find((r) => r.name === 'refs/heads/main')!.oid!;
    // no-progress: the pack's first packet follows the ACK (progress would come first on channel 2, as C git sends it).
    const want = `want ${tip} multi_ack_detailed side-band-64k ofs-delta no-progress`;
    let out = fromUtf8(await collect(await serveUploadPackV0(backend, once(body(want, '0000', `have ${parent}`, '0000')))));
    expect(out).toBe(`0038ACK ${parent} common\n0037ACK ${parent} ready\n0008NAK\n`);
    const bytes = await collect(await serveUploadPackV0(backend, once(body(want, '0000', `have ${parent}`, 'done'))));
    out = fromUtf8(bytes.subarray(0, 120));
    expect(out.startsWith(`0038ACK ${parent} common\n0031ACK ${parent}\n`)).toBe(true);
    expect(out.slice(0x38 + 0x31 + 4, 0x38 + 0x31 + 9)).toBe('\x01PACK');
  });

  it('rejects malformed and oversized requests with typed errors', async () => {
    const run = (b: Buffer, limits = {}) => serveUploadPackV2(backend, once(b), { limits });
    const want = `want ${tip}`;
    await expect(run(body('command=fetch', '0001', 'want xyz', '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(run(body('command=nope', '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(run(body('command=fetch', '0001', want, 'deepen 1', 'deepen-since 5', '0000'))).rejects.toThrow(/cannot be used together/);
    await expect(run(body('command=fetch', '0001', want, 'filter sparse:oid=abc', '0000'))).rejects.toThrow(/unsupported filter/);
    await expect(run(body('command=fetch', '0001', want, 'deepen 99999999999', '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    const many = Array.from({ length: 5 }, () => `have ${tip}`);
    await expect(run(body('command=fetch', '0001', want, ...many, '0000'), { maxHaves: 4 })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' });
    await expect(run(Buffer.concat([body('command=fetch', '0001'), Buffer.from('fff1')]))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(run(Buffer.concat([body('command=fetch', '0001'), Buffer.from('0032want')]))).rejects.toThrow(/ends inside/);
    await expect(run(body('command=fetch', '0001', want, 'done'))).rejects.toThrow(/before its flush/);
  });

  it('parses filter specs', async () => {
    const { parseFilterSpec } = await import('../../src/protocol/fetch-request.js');
    expect(parseFilterSpec('blob:none')).toEqual({ kind: 'blob:none' });
    expect(parseFilterSpec('blob:limit=2k')).toEqual({ kind: 'blob:limit', limit: 2048 });
    expect(parseFilterSpec('blob:limit=3m')).toEqual({ kind: 'blob:limit', limit: 3 * 1024 * 1024 });
    expect(parseFilterSpec('tree:0')).toEqual({ kind: 'tree', depth: 0 });
    expect(() => parseFilterSpec('combine:blob:none+tree:1')).toThrow();
    void (tip as Oid);
  });
});
