/**
 * The archive encoders on their own: pax records count their own length as git does, tar
 * output is blocked to 10,240 bytes with at least two zero records at the end, and a zip reads
 * back (fflate) with every file's bytes; a cursor refuses any edit.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { unzipSync } from 'fflate';
import { TarEncoder, paxRecord, ustarHeader } from '../../src/archive/tar.js';
import { ZipEncoder, dosDateTime } from '../../src/archive/zip.js';
import { crc32 } from '../../src/archive/crc32.js';
import { decodeCursor, encodeCursor } from '../../src/repo/cursor.js';

const enc = new TextEncoder();
const OID = 'a'.repeat(40);

describe('tar', () => {
  it('writes pax records whose length prefix counts the whole record', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (v) => {
        const r = new TextDecoder().decode(paxRecord('path', enc.encode(v)));
        const n = Number(r.slice(0, r.indexOf(' ')));
        expect(enc.encode(r).length).toBe(n);
        expect(r.endsWith(`path=${v}\n`)).toBe(true);
      }),
      { seed: 13 },
    );
  });

  it('checksums headers as ustar readers expect', () => {
    const h = ustarHeader({ name: enc.encode('a.txt'), mode: 0o664, size: 5, mtime: 1_700_000_000, typeflag: '0' });
    const stated = Number.parseInt(new TextDecoder().decode(h.subarray(148, 155)), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    expect(stated).toBe(sum);
  });

  it('blocks the archive to 10,240 bytes with at least 1,024 zero bytes at the end', () => {
    for (const size of [0, 1, 511, 512, 8_000, 8_704, 9_216, 20_000]) {
      const tar = new TarEncoder({ mtime: 0 });
      const parts = [
        ...tar.globalHeader(OID),
        ...tar.entry({ path: 'f', kind: 'file', mode: 0o100644, oid: OID, content: new Uint8Array(size).fill(1) }),
        tar.finish(),
      ];
      const total = parts.reduce((n, p) => n + p.length, 0);
      expect(total % 10_240).toBe(0);
      const last = parts.at(-1)!;
      expect(last.length).toBeGreaterThanOrEqual(1024);
      expect(last.every((b) => b === 0)).toBe(true);
    }
  });
});

describe('zip', () => {
  it('reads back with every file, and dates in DOS form', () => {
    const zip = new ZipEncoder({ mtime: 1_700_000_000 });
    const files = { 'd/': undefined, 'd/a.txt': enc.encode('hello '.repeat(100)), 'd/b.bin': new Uint8Array([0, 1, 2]), 'd/empty': new Uint8Array(0) };
    const parts: Uint8Array[] = [];
    for (const [path, content] of Object.entries(files)) {
      parts.push(...zip.entry({ path, kind: content === undefined ? 'dir' : 'file', mode: content === undefined ? 0o40000 : 0o100644, oid: OID, content }));
    }
    parts.push(...zip.finish(OID));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    const out = unzipSync(bytes);
    expect(new TextDecoder().decode(out['d/a.txt'])).toBe('hello '.repeat(100));
    expect([...out['d/b.bin']!]).toEqual([0, 1, 2]);
    expect(out['d/empty']!.length).toBe(0);
    // 2023-11-14 22:13:20 UTC
    expect(dosDateTime(1_700_000_000)).toEqual({ date: 14 + 11 * 32 + 43 * 512, time: 10 + 13 * 32 + 22 * 2048 });
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('cursors', () => {
  it('round-trips and refuses any edited character or another kind', () => {
    const c = encodeCursor('k', { after: 'team/x', n: 3 });
    expect(decodeCursor('k', c)).toEqual({ after: 'team/x', n: 3 });
    expect(() => decodeCursor('other', c)).toThrow(/invalid cursor/);
    for (let i = 0; i < c.length; i++) {
      const ch = c[i] === 'A' ? 'B' : 'A';
      const edited = c.slice(0, i) + ch + c.slice(i + 1);
      let same: unknown;
      try {
        same = decodeCursor('k', edited);
      } catch (e) {
        expect(String(e)).toMatch(/invalid cursor/);
        continue;
      }
      // Only an edit base64 ignores (the unused low bits of the last character) may decode, and to the same value.
      expect(same).toEqual({ after: 'team/x', n: 3 });
    }
  });
});
