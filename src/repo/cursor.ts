/**
 * Opaque paging cursors (repository listings, path history): a JSON position, base64url-encoded,
 * with a check value over it, so a cursor that was edited (or belongs to another listing) is
 * refused with a 400 instead of silently paging from somewhere else. The check value is not a
 * secret MAC: cursors carry positions only (names and ids the caller may list anyway).
 */
import { InvalidArgumentError } from '../errors.js';
import { platform } from '../platform/index.js';
import { concat, fromUtf8, toHex, utf8 } from '../platform/bytes.js';

const DOMAIN = utf8('level-git cursor v1\0');
/** Longest cursor accepted (characters). */
const MAX_CURSOR = 64 * 1024;

function check(kind: string, payload: Uint8Array): string {
  return toHex(platform().sha1(concat([DOMAIN, utf8(kind), new Uint8Array([0]), payload])), 0, 8);
}

function toBase64Url(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** An opaque cursor for a position `value` of a listing of kind `kind`. */
export function encodeCursor(kind: string, value: unknown): string {
  const payload = utf8(JSON.stringify(value));
  return `${toBase64Url(payload)}.${check(kind, payload)}`;
}

/** The position a cursor of `kind` holds; InvalidArgumentError (400) for anything this module did not write. */
export function decodeCursor(kind: string, cursor: string): unknown {
  const bad = () => new InvalidArgumentError('invalid cursor: pass back a nextCursor exactly as it was returned');
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR || !/^[A-Za-z0-9_-]*\.[0-9a-f]{16}$/.test(cursor)) throw bad();
  const [body, sum] = cursor.split('.') as [string, string];
  let payload: Uint8Array;
  try {
    payload = fromBase64Url(body);
  } catch {
    throw bad();
  }
  if (check(kind, payload) !== sum) throw bad();
  try {
    return JSON.parse(fromUtf8(payload));
  } catch {
    throw bad();
  }
}
