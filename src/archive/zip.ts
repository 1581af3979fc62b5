/**
 * The zip format as `git archive --format=zip` writes it: a local header per entry with an
 * extended-timestamp extra field (the commit time), files deflated (raw, level 6 by default)
 * unless that does not make them smaller, directories and submodules stored empty with the
 * MS-DOS directory attribute, executables and symlinks with their unix mode in the external
 * attributes (and creator "unix 2.3"), the text/binary internal attribute from a NUL in the first
 * 8,000 bytes, paths flagged UTF-8 when not ASCII, and the commit id as the archive comment.
 * The deflated bytes come from fflate, not zlib, so compressed data may differ from git's while
 * every file's bytes, CRC and attributes are the same. Past the 32-bit fields, zip64 as git
 * writes it: an entry over 4 GiB gets a zip64 extra field (sizes) in its local header and
 * central record, an entry past 4 GiB into the archive its offset in the central record's, and
 * an archive with more than 65,535 entries or a directory past 4 GiB the zip64 end record and
 * locator before the classic end record, whose fields then say 0xffff / 0xffffffff.
 */
import { deflateSync } from 'fflate';
import { LimitExceededError } from '../errors.js';
import type { ArchiveEntry } from './entry.js';
import { crc32 } from './crc32.js';

const enc = new TextEncoder();
const UTF8_FLAG = 1 << 11;
const MAX32 = 0xffffffff;

/** Little-endian writer over a fixed buffer. */
class Le {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }
  u16(n: number): this {
    this.#view.setUint16(this.#at, n, true);
    this.#at += 2;
    return this;
  }
  u32(n: number): this {
    this.#view.setUint32(this.#at, n >>> 0, true);
    this.#at += 4;
    return this;
  }
  u64(n: number): this {
    this.#view.setUint32(this.#at, n % 0x100000000, true);
    this.#view.setUint32(this.#at + 4, Math.floor(n / 0x100000000), true);
    this.#at += 8;
    return this;
  }
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.#at);
    this.#at += b.length;
    return this;
  }
}

/** DOS date and time words of a Unix time (UTC). */
export function dosDateTime(seconds: number): { date: number; time: number } {
  const d = new Date(seconds * 1000);
  const date = d.getUTCDate() + (d.getUTCMonth() + 1) * 32 + (d.getUTCFullYear() - 1980) * 512;
  const time = Math.floor(d.getUTCSeconds() / 2) + d.getUTCMinutes() * 32 + d.getUTCHours() * 2048;
  return { date: date & 0xffff, time };
}

/** True when git would call the bytes binary: a NUL in the first 8,000. */
function isBinary(data: Uint8Array): boolean {
  return data.subarray(0, 8000).includes(0);
}

/** Encodes entries into a zip stream; the central directory is kept until `finish`. */
export class ZipEncoder {
  readonly #mtime: number;
  readonly #level: number;
  readonly #dos: { date: number; time: number };
  readonly #dir: Uint8Array[] = [];
  #dirBytes = 0;
  #offset = 0;
  #creatorMax = 0;
  readonly #max32: number;

  /**
   * `mtime`: seconds since the epoch (the commit's committer time); `level`: deflate level 0–9
   * (default 6); `max32`: the largest size or offset written in a 32-bit field (default
   * 0xffffffff, as git; tests lower it to write zip64 records without writing 4 GiB).
   */
  constructor(options: { mtime: number; level?: number; max32?: number }) {
    this.#mtime = options.mtime;
    this.#level = options.level ?? 6;
    this.#dos = dosDateTime(options.mtime);
    this.#max32 = options.max32 ?? MAX32;
  }

  #extra(): Uint8Array {
    return new Le(9)
      .u16(0x5455)
      .u16(5)
      .raw(new Uint8Array([1]))
      .u32(this.#mtime).bytes;
  }

  /** One entry: its local header and data (the central directory record is kept for `finish`). */
  entry(e: ArchiveEntry): Uint8Array[] {
    let p = e.path;
    if (e.kind === 'dir' && !p.endsWith('/')) p += '/';
    const path = enc.encode(p);
    if (path.length > 0xffff) throw new LimitExceededError(`path too long for a zip archive: ${p.slice(0, 200)}`, { details: { limit: 'zipPath' } });
    const flags = path.length === p.length ? 0 : UTF8_FLAG; // more bytes than characters: not ASCII
    let method = 0;
    let attr2 = 16;
    let attr1 = 0;
    let creator = 0;
    let data: Uint8Array = new Uint8Array(0);
    let crc = 0;
    let size = 0;
    if (e.kind !== 'dir') {
      const body = e.content ?? new Uint8Array(0);
      size = body.length;
      crc = crc32(body);
      attr1 = isBinary(body) ? 0 : 1;
      attr2 = e.kind === 'symlink' ? ((e.mode | 0o777) * 0x10000) >>> 0 : e.mode & 0o111 ? (e.mode * 0x10000) >>> 0 : 0;
      if (e.kind === 'symlink' || e.mode & 0o111) creator = 0x0317;
      data = body;
      if (e.kind === 'file' && this.#level !== 0 && size > 0) {
        const deflated = deflateSync(body, { level: this.#level as 6 });
        if (deflated.length < size) {
          data = deflated;
          method = 8;
        }
      }
    }
    const offset = this.#offset;
    const big = size > this.#max32 || data.length > this.#max32; // git: zip64 sizes in both headers
    const far = offset > this.#max32;
    const version = big ? 45 : 10;
    const { date, time } = this.#dos;
    const local = new Le(30)
      .u32(0x04034b50)
      .u16(version)
      .u16(flags)
      .u16(method)
      .u16(time)
      .u16(date)
      .u32(crc)
      .u32(big ? MAX32 : data.length)
      .u32(big ? MAX32 : size)
      .u16(path.length)
      .u16(big ? 9 + 20 : 9).bytes;
    const extra = this.#extra();
    const localExtra = big ? [extra, new Le(20).u16(1).u16(16).u64(size).u64(data.length).bytes] : [extra];
    // The central record's zip64 field: the sizes when they do not fit, the offset when it does not.
    const dir64 = (big ? 16 : 0) + (far ? 8 : 0);
    const ext64 = new Le(dir64 > 0 ? 4 + dir64 : 0);
    if (dir64 > 0) {
      ext64.u16(1).u16(dir64);
      if (big) ext64.u64(size).u64(data.length);
      if (far) ext64.u64(offset);
    }
    const central = new Le(46 + path.length + 9 + ext64.bytes.length)
      .u32(0x02014b50)
      .u16(creator)
      .u16(version)
      .u16(flags)
      .u16(method)
      .u16(time)
      .u16(date)
      .u32(crc)
      .u32(big ? MAX32 : data.length)
      .u32(big ? MAX32 : size)
      .u16(path.length)
      .u16(9 + ext64.bytes.length)
      .u16(0) // comment length
      .u16(0) // disk
      .u16(attr1)
      .u32(attr2)
      .u32(far ? MAX32 : offset)
      .raw(path)
      .raw(extra)
      .raw(ext64.bytes).bytes;
    this.#creatorMax = Math.max(this.#creatorMax, creator);
    this.#dir.push(central);
    this.#dirBytes += central.length;
    const out = [local, path, ...localExtra, ...(data.length > 0 ? [data] : [])];
    for (const b of out) this.#offset += b.length;
    return out;
  }

  /** The central directory and the end records (zip64 ones when a count or offset does not fit), then the commit id as the archive comment when given. */
  finish(commit?: string): Uint8Array[] {
    const comment = commit === undefined ? new Uint8Array(0) : enc.encode(commit);
    const n = this.#dir.length;
    const at = this.#offset;
    const clamped = n > 0xffff || at > this.#max32;
    const tail: Uint8Array[] = [];
    if (clamped) {
      tail.push(
        new Le(56).u32(0x06064b50).u64(44).u16(this.#creatorMax).u16(45).u32(0).u32(0).u64(n).u64(n).u64(this.#dirBytes).u64(at).bytes,
        new Le(20)
          .u32(0x07064b50)
          .u32(0)
          .u64(at + this.#dirBytes)
          .u32(1).bytes,
      );
    }
    const count = Math.min(n, 0xffff);
    const end = new Le(22)
      .u32(0x06054b50)
      .u16(0)
      .u16(0)
      .u16(count)
      .u16(count)
      .u32(Math.min(this.#dirBytes, MAX32))
      .u32(at > this.#max32 ? MAX32 : at)
      .u16(comment.length).bytes;
    return [...this.#dir, ...tail, end, comment];
  }
}
