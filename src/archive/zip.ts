/**
 * The zip format as `git archive --format=zip` writes it: a local header per entry with an
 * extended-timestamp extra field (the commit time), files deflated (raw, level 6 by default)
 * unless that does not make them smaller, directories and submodules stored empty with the
 * MS-DOS directory attribute, executables and symlinks with their unix mode in the external
 * attributes (and creator "unix 2.3"), the text/binary internal attribute from a NUL in the first
 * 8,000 bytes, paths flagged UTF-8 when not ASCII, and the commit id as the archive comment.
 * The deflated bytes come from fflate, not zlib, so compressed data may differ from git's while
 * every file's bytes, CRC and attributes are the same. No zip64: an archive past 4 GiB is refused.
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

  /** `mtime`: seconds since the epoch (the commit's committer time); `level`: deflate level 0–9 (default 6). */
  constructor(options: { mtime: number; level?: number }) {
    this.#mtime = options.mtime;
    this.#level = options.level ?? 6;
    this.#dos = dosDateTime(options.mtime);
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
    if (offset + 30 + path.length + 9 + data.length > MAX32)
      throw new LimitExceededError('zip archive over 4 GiB (zip64 is not written)', { details: { limit: 'zipSize' } });
    const { date, time } = this.#dos;
    const local = new Le(30)
      .u32(0x04034b50)
      .u16(10)
      .u16(flags)
      .u16(method)
      .u16(time)
      .u16(date)
      .u32(crc)
      .u32(data.length)
      .u32(size)
      .u16(path.length)
      .u16(9).bytes;
    const extra = this.#extra();
    const central = new Le(46 + path.length + 9)
      .u32(0x02014b50)
      .u16(creator)
      .u16(10)
      .u16(flags)
      .u16(method)
      .u16(time)
      .u16(date)
      .u32(crc)
      .u32(data.length)
      .u32(size)
      .u16(path.length)
      .u16(9)
      .u16(0) // comment length
      .u16(0) // disk
      .u16(attr1)
      .u32(attr2)
      .u32(offset)
      .raw(path)
      .raw(extra).bytes;
    this.#dir.push(central);
    this.#dirBytes += central.length;
    const out = data.length > 0 ? [local, path, extra, data] : [local, path, extra];
    for (const b of out) this.#offset += b.length;
    return out;
  }

  /** The central directory and the end record, with the commit id as the archive comment when given. */
  finish(commit?: string): Uint8Array[] {
    const comment = commit === undefined ? new Uint8Array(0) : enc.encode(commit);
    const n = this.#dir.length;
    if (n > 0xffff) throw new LimitExceededError('more than 65,535 entries in a zip archive (zip64 is not written)', { details: { limit: 'zipEntries' } });
    const end = new Le(22).u32(0x06054b50).u16(0).u16(0).u16(n).u16(n).u32(this.#dirBytes).u32(this.#offset).u16(comment.length).bytes;
    return [...this.#dir, end, comment];
  }
}
