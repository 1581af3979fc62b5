/**
 * zip64: an archive of 70,000 files (over zip's 65,535 entries) has git's zip64 end record and
 * locator and a clamped classic end record, and passes `unzip -t` and Python's zipfile; with the 32-bit limit lowered, entries
 * whose sizes and offsets do not fit get git's zip64 extra fields, and readers find every file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../src/archive/entry.js';
import { ZipEncoder } from '../../src/archive/zip.js';
import { tempDirs } from '../helpers/tmp.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const MTIME = 1_700_000_000;

function zipOf(entries: ArchiveEntry[], options: { max32?: number; commit?: string } = {}): Buffer {
  const zip = new ZipEncoder({ mtime: MTIME, ...options });
  const parts: Uint8Array[] = [];
  for (const e of entries) parts.push(...zip.entry(e));
  parts.push(...zip.finish(options.commit));
  return Buffer.concat(parts);
}

function check(file: string, count?: number): void {
  const t = spawnSync('unzip', ['-tqq', file], { encoding: 'utf8' });
  expect(t.status, t.stdout + t.stderr).toBe(0);
  const py = spawnSync('python3', ['-c', 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(len(z.namelist()))', file], {
    encoding: 'utf8',
  });
  expect(py.status, py.stderr).toBe(0);
  if (count !== undefined) expect(Number(py.stdout.trim())).toBe(count);
}

describe('zip64', () => {
  it('70,000 files: zip64 end records as git writes them; unzip -t and zipfile accept the archive', () => {
    const root = dirs.make('zip64-');
    const entries: ArchiveEntry[] = [];
    for (let d = 0; d < 70; d++) {
      entries.push({ path: `d${String(d).padStart(2, '0')}/`, kind: 'dir', mode: 0o40000, oid: '' });
      for (let f = 0; f < 1000; f++) {
        const path = `d${String(d).padStart(2, '0')}/f${String(f).padStart(4, '0')}`;
        entries.push({ path, kind: 'file', mode: 0o100644, oid: '', content: new TextEncoder().encode(`${d}.${f}\n`) });
      }
    }
    const commit = 'c'.repeat(40);
    const ours = zipOf(entries, { commit });
    // The classic end record is clamped; the zip64 end record (44 bytes after its size) and locator hold the truth.
    const end = ours.length - 22 - 40;
    expect(ours.readUInt32LE(end)).toBe(0x06054b50);
    expect(ours.readUInt16LE(end + 8)).toBe(0xffff);
    expect(ours.readUInt16LE(end + 10)).toBe(0xffff);
    expect(ours.readUInt32LE(end - 20)).toBe(0x07064b50);
    const z64 = end - 20 - 56;
    expect(ours.readUInt32LE(z64)).toBe(0x06064b50);
    expect(Number(ours.readBigUInt64LE(z64 + 4))).toBe(44);
    expect(ours.readUInt16LE(z64 + 14)).toBe(45);
    expect(Number(ours.readBigUInt64LE(z64 + 24))).toBe(70_070);
    expect(Number(ours.readBigUInt64LE(z64 + 32))).toBe(70_070);
    const dirSize = Number(ours.readBigUInt64LE(z64 + 40));
    const dirAt = Number(ours.readBigUInt64LE(z64 + 48));
    expect(dirAt + dirSize).toBe(z64);
    expect(Number(ours.readBigUInt64LE(end - 20 + 8))).toBe(z64);
    expect(ours.readUInt32LE(dirAt)).toBe(0x02014b50);
    const file = join(root, 'ours.zip');
    writeFileSync(file, ours);
    check(file, 70_070);
  }, 300_000);

  it('sizes and offsets past the 32-bit limit get zip64 extra fields that readers follow', () => {
    const root = dirs.make('zip64-small-');
    mkdirSync(root, { recursive: true });
    const entries: ArchiveEntry[] = [{ path: 'dir/', kind: 'dir', mode: 0o40000, oid: '' }];
    for (let i = 0; i < 5; i++) {
      const content = new Uint8Array(300 + i);
      crypto.getRandomValues(content); // incompressible: stored
      entries.push({ path: `dir/r${i}.bin`, kind: 'file', mode: i === 0 ? 0o100755 : 0o100644, oid: '', content });
    }
    entries.push({ path: 'dir/text.txt', kind: 'file', mode: 0o100644, oid: '', content: new TextEncoder().encode('deflated '.repeat(100)) });
    const zip = zipOf(entries, { max32: 200 });
    // The first file: sizes in a zip64 extra field of its local header (0xffffffff in the fields).
    const first = zip.indexOf(Buffer.from('dir/r0.bin'));
    expect(zip.readUInt32LE(first - 30)).toBe(0x04034b50);
    expect(zip.readUInt16LE(first - 30 + 4)).toBe(45);
    expect(zip.readUInt32LE(first - 30 + 18)).toBe(0xffffffff);
    expect(zip.readUInt16LE(first + 10 + 9)).toBe(1); // after the name and the timestamp field
    expect(Number(zip.readBigUInt64LE(first + 10 + 9 + 4))).toBe(300);
    const file = join(root, 'small.zip');
    writeFileSync(file, zip);
    check(file);
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(",".join(f"{i.filename}:{i.file_size}:{i.header_offset}" for i in z.infolist()))',
        file,
      ],
      { encoding: 'utf8' },
    );
    const listed = py.stdout.trim().split(',');
    expect(listed.map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'dir/:0',
      ...[0, 1, 2, 3, 4].map((i) => `dir/r${i}.bin:${300 + i}`),
      'dir/text.txt:900',
    ]);
    expect(Number(listed.at(-1)!.split(':')[2])).toBeGreaterThan(200); // read from the zip64 field
  });
});
