/**
 * The tar format as `git archive --format=tar` writes it: ustar headers with owner root/root
 * (uid and gid 0), modes from git's (directories 0775, files 0664 or 0775, symlinks 0777: git's
 * default `tar.umask` 002), a pax global header carrying the commit id, pax extended headers
 * only for paths and link targets that do not fit, every record padded to 512 bytes and the
 * whole archive to 10,240-byte blocks (at least two zero records at the end). Pure functions
 * and a small stateful encoder over Uint8Array; the caller streams what they return.
 */
import type { ArchiveEntry } from './entry.js';

const RECORD = 512;
const BLOCK = RECORD * 20;
const TAR_UMASK = 0o002;
const enc = new TextEncoder();

/** Writes `s` (bytes) at `at`, at most `max` bytes. */
function put(h: Uint8Array, at: number, bytes: Uint8Array, max: number): void {
  h.set(bytes.subarray(0, max), at);
}

/** `n` in octal, zero-padded to `width` digits, then NUL (git's `%0*o`). */
function octal(n: number, width: number): Uint8Array {
  return enc.encode(`${n.toString(8).padStart(width, '0')}\0`);
}

/** One pax record: `"<len> <key>=<value>\n"`, where `len` counts the whole record, itself included. */
export function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const k = enc.encode(key);
  let len = 1 + 1 + k.length + 1 + value.length + 1;
  for (let t = 1; Math.floor(len / 10) >= t; t *= 10) len++;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

/** A 512-byte ustar header; `mode` is the tar mode (permission bits), `size` what the header states. */
export function ustarHeader(fields: {
  name: Uint8Array;
  prefix?: Uint8Array;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname?: Uint8Array;
}): Uint8Array {
  const h = new Uint8Array(RECORD);
  put(h, 0, fields.name, 100);
  h.set(octal(fields.mode & 0o7777, 7), 100);
  h.set(octal(0, 7), 108); // uid
  h.set(octal(0, 7), 116); // gid
  h.set(octal(fields.size, 11), 124);
  h.set(octal(fields.mtime, 11), 136);
  h[156] = fields.typeflag.charCodeAt(0);
  if (fields.linkname) put(h, 157, fields.linkname, 100);
  h.set(enc.encode('ustar\0'), 257);
  h.set(enc.encode('00'), 263);
  h.set(enc.encode('root'), 265); // uname
  h.set(enc.encode('root'), 297); // gname
  h.set(octal(0, 7), 329); // devmajor
  h.set(octal(0, 7), 337); // devminor
  if (fields.prefix) put(h, 345, fields.prefix, 155);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < RECORD; i++) if (i < 148 || i >= 156) sum += h[i]!;
  h.set(octal(sum, 7), 148);
  return h;
}

/** Where git splits a long path between the header's prefix (up to 155 bytes) and name fields: the last `/` that fits, or 0. */
function prefixSplit(path: Uint8Array): number {
  let i = path.length;
  if (i > 1 && path[i - 1] === 0x2f) i--;
  if (i > 155) i = 155;
  do i--;
  while (i > 0 && path[i] !== 0x2f);
  return i;
}

/** Zero padding that brings `n` bytes to a whole record. */
function padTo(n: number, unit: number): Uint8Array {
  return new Uint8Array((unit - (n % unit)) % unit);
}

/** Encodes entries into a tar stream, keeping the count of bytes written for the final blocking. */
export class TarEncoder {
  readonly #mtime: number;
  #written = 0;

  /** `mtime`: seconds since the epoch stamped on every entry (the commit's committer time). */
  constructor(options: { mtime: number }) {
    this.#mtime = options.mtime;
  }

  #out(parts: Uint8Array[]): Uint8Array[] {
    for (const p of parts) this.#written += p.length;
    return parts;
  }

  /** A header and its data, padded: the unit every write is made of. */
  #record(header: Uint8Array, data?: Uint8Array): Uint8Array[] {
    if (data === undefined || data.length === 0) return [header];
    return [header, data, padTo(data.length, RECORD)];
  }

  /** The pax global header naming the commit (git writes it only for a commit). */
  globalHeader(commit: string): Uint8Array[] {
    const body = paxRecord('comment', enc.encode(commit));
    const header = ustarHeader({ name: enc.encode('pax_global_header'), mode: 0o666, size: body.length, mtime: this.#mtime, typeflag: 'g' });
    return this.#out(this.#record(header, body));
  }

  /** One entry: its pax extended header when needed, then its header and data. */
  entry(e: ArchiveEntry): Uint8Array[] {
    const isDir = e.kind === 'dir';
    let path = enc.encode(e.path);
    if (isDir && path[path.length - 1] !== 0x2f) path = enc.encode(`${e.path}/`);
    const ext: Uint8Array[] = [];
    let name = path;
    let prefix: Uint8Array | undefined;
    if (path.length > 100) {
      const plen = prefixSplit(path);
      const rest = path.length - plen - 1;
      if (plen > 0 && rest <= 100) {
        prefix = path.subarray(0, plen);
        name = path.subarray(plen + 1);
      } else {
        name = enc.encode(`${e.oid}.data`);
        ext.push(paxRecord('path', path));
      }
    }
    let linkname: Uint8Array | undefined;
    if (e.kind === 'symlink') {
      const target = e.content ?? new Uint8Array(0);
      if (target.length > 100) {
        linkname = enc.encode(`see ${e.oid}.paxheader`);
        ext.push(paxRecord('linkpath', target));
      } else linkname = target;
    }
    const mode = isDir ? (e.mode | 0o777) & ~TAR_UMASK : e.kind === 'symlink' ? e.mode | 0o777 : (e.mode | (e.mode & 0o100 ? 0o777 : 0o666)) & ~TAR_UMASK;
    const typeflag = isDir ? '5' : e.kind === 'symlink' ? '2' : '0';
    const data = e.kind === 'file' ? (e.content ?? new Uint8Array(0)) : undefined;
    const parts: Uint8Array[] = [];
    if (ext.length > 0) {
      const body = concat(ext);
      const h = ustarHeader({ name: enc.encode(`${e.oid}.paxheader`), mode: 0o666, size: body.length, mtime: this.#mtime, typeflag: 'x' });
      parts.push(...this.#record(h, body));
    }
    const header = ustarHeader({ name, prefix, mode, size: data?.length ?? 0, mtime: this.#mtime, typeflag, linkname });
    parts.push(...this.#record(header, data));
    return this.#out(parts);
  }

  /** The end: zeros to the end of the 10,240-byte block, and one more block when fewer than two records were left. */
  finish(): Uint8Array {
    const tail = BLOCK - (this.#written % BLOCK);
    const n = tail < 2 * RECORD ? tail + BLOCK : tail;
    this.#written += n;
    return new Uint8Array(n);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
