import { describe, expect, it } from 'vitest';
import { advertiseReceivePack, encodeReportStatus, readPushRequest, serveReceivePack } from '../../src/protocol/receive-pack.js';
import { platform, setPlatform } from '../../src/platform/index.js';
import { decodeAllPkts, encodePkt, PktReader, pktText } from '../../src/protocol/pkt-line.js';
import { decodeSideband } from '../../src/protocol/sideband.js';
import { collect, concat, fromUtf8, utf8 } from '../../src/platform/bytes.js';
import type { GitBackend, ReceiveOptions, RefCommand } from '../../src/protocol/backend.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

function body(...parts: (string | Uint8Array)[]): Uint8Array {
  return concat(parts.map((p) => (typeof p === 'string' ? (p === '0000' ? utf8(p) : encodePkt(p + '\n')) : p)));
}
async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

describe('receive-pack', () => {
  it('encodes report-status plainly and inside side-band-64k', () => {
    const result = {
      results: [
        { ref: 'refs/heads/main', ok: true },
        { ref: 'refs/heads/x', ok: false, reason: 'protected\nbranch' },
      ],
    };
    const plain = fromUtf8(concat(encodeReportStatus(result, { sideband: false })));
    expect(plain).toBe('000eunpack ok\n0017ok refs/heads/main\n0025ng refs/heads/x protected branch\n0000');
    const banded = decodeAllPkts(concat(encodeReportStatus(result, { sideband: true })));
    expect(banded.at(-1)).toEqual({ type: 'flush' });
    const inner = banded[0]!.type === 'data' ? decodeSideband(banded[0]!.data) : null;
    expect(inner?.channel).toBe(1);
    expect(fromUtf8(inner!.data)).toBe(plain);
    const failed = fromUtf8(
      concat(
        encodeReportStatus(
          { unpackError: 'index-pack failed', results: [{ ref: 'refs/heads/main', ok: false, reason: 'unpacker error' }] },
          { sideband: false },
        ),
      ),
    );
    expect(failed).toBe('001dunpack index-pack failed\n0026ng refs/heads/main unpacker error\n0000');
  });

  it('parses shallow lines, commands with capabilities, push options, then leaves the pack', async () => {
    const r = new PktReader(
      once(
        body(
          `shallow ${A}`,
          `${A} ${B} refs/heads/main\0report-status-v2 side-band-64k atomic push-options agent=git/2.39.5`,
          `${Z} ${B} refs/heads/new`,
          '0000',
          'ci.skip',
          '0000',
          utf8('PACKrest'),
        ),
      ),
    );
    const p = (await readPushRequest(r))!;
    expect(p.shallows).toEqual([A]);
    expect(p.commands).toEqual([
      { oldOid: A, newOid: B, ref: 'refs/heads/main' },
      { oldOid: Z, newOid: B, ref: 'refs/heads/new' },
    ]);
    expect(p.capabilities.get('agent')).toBe('git/2.39.5');
    expect(p.pushOptions).toEqual(['ci.skip']);
    expect(fromUtf8(await collect(r.rest()))).toBe('PACKrest');
  });

  it('rejects malformed commands, duplicates and too many commands', async () => {
    const parse = (b: Uint8Array, limits = {}) => readPushRequest(new PktReader(once(b)), limits);
    await expect(parse(body(`${A} ${B}  refs/heads/main`, '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(parse(body(`${A} zz refs/heads/main`, '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(parse(body(`${A} ${B} refs/heads/a b`, '0000'))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(parse(body(`${A} ${B} refs/heads/m`, `${A} ${B} refs/heads/m`, '0000'))).rejects.toThrow(/twice/);
    await expect(parse(body(`${A} ${B} refs/heads/a`, `${A} ${B} refs/heads/b`, '0000'), { maxCommands: 1 })).rejects.toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
    });
    await expect(parse(body(`${A} ${B} refs/heads/a\0object-format=sha256`, '0000'))).rejects.toThrow(/sha256/);
    expect(await parse(body('0000'))).toBeNull();
  });

  it('passes no pack when every command is a delete, and the policy and atomic flag to the backend', async () => {
    const calls: { commands: readonly RefCommand[]; pack: unknown; options: ReceiveOptions }[] = [];
    const backend = {
      async receive(commands: readonly RefCommand[], pack: AsyncIterable<Uint8Array> | null, options: ReceiveOptions) {
        calls.push({ commands, pack, options });
        return { results: commands.map((c) => ({ ref: c.ref, ok: true })) };
      },
    } as unknown as GitBackend;
    const policy = () => null;
    const out = await serveReceivePack(backend, once(body(`${A} ${Z} refs/heads/gone\0report-status atomic`, '0000')), { policy });
    expect(calls[0]!.pack).toBeNull();
    expect(calls[0]!.options).toMatchObject({ atomic: true, pushOptions: [] });
    expect(calls[0]!.options.policy).toBe(policy);
    expect(decodeAllPkts(concat(out)).map((p) => (p.type === 'data' ? pktText(p.data) : p.type))).toEqual(['unpack ok', 'ok refs/heads/gone', 'flush']);
  });

  it("readies the pack reader's worker thread when it serves its advertisement", async () => {
    const prepared: string[] = [];
    const before = platform();
    const workers = { ext: 'ts' as const, open: () => expect.unreachable('no job opens'), prepare: (m: string) => prepared.push(m) };
    setPlatform({ ...before, workers } as never);
    try {
      const backend = { listRefs: async () => [{ name: 'refs/heads/main', oid: A }] } as unknown as GitBackend;
      const lines = decodeAllPkts(concat(await advertiseReceivePack(backend, { http: true })));
      expect(lines.some((p) => p.type === 'data' && pktText(p.data).startsWith(`${A} refs/heads/main`))).toBe(true);
      expect(prepared).toHaveLength(1);
      expect(prepared[0]).toMatch(/\/pack\/pack-worker\.ts$/);
    } finally {
      setPlatform(before);
    }
  });
});
