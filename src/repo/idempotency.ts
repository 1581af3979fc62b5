/**
 * Idempotent commits: `repo.commit({ ..., idempotencyKey })` stores the commit's result under
 * the key IN THE SAME DATABASE BATCH as the ref move, so a retry of the same request (after a
 * timeout, a crash, a lost response) returns the first result instead of committing twice.
 *
 * Durable form (storage/keys.ts): `'I' repoId key` -> JSON
 *   { "fingerprint": string, "result": CommitResult, "createdAt": ms }
 * Records live with their repository (deleting it clears them) and count for `ttlMs`
 * (24 hours). The same key with a different request is an InvalidArgumentError.
 */
import { InvalidArgumentError } from '../errors.js';
import { platform } from '../platform/index.js';
import { fromUtf8, toHex, utf8 } from '../platform/bytes.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, repoStringKey } from '../storage/keys.js';

/** How long a record counts. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** Longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** A stored result. */
export interface IdempotencyRecord<T> {
  /** Digest of the request the key was first used with. */
  fingerprint: string;
  result: T;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** Checks an idempotency key: 1..200 printable ASCII characters. */
export function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new InvalidArgumentError(`idempotencyKey must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`);
  }
  return key;
}

/** SHA-1 of a canonical JSON form of `value` (file contents are replaced by their SHA-1). */
export function fingerprint(value: unknown): string {
  const canon = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return { sha1: toHex(platform().sha1(v)) };
    if (Array.isArray(v)) return v.map(canon);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    if (typeof v === 'string' && v.length > 256) return { sha1: toHex(platform().sha1(utf8(v))) };
    return v;
  };
  return toHex(platform().sha1(utf8(JSON.stringify(canon(value)))));
}

function key(repoId: number, idempotencyKey: string): Uint8Array {
  return repoStringKey(TAG.idempotency, repoId, idempotencyKey);
}

/** The live record under a key, or undefined (absent or older than the TTL). */
export async function readIdempotencyRecord<T>(kv: Kv, repoId: number, idempotencyKey: string, now = Date.now()): Promise<IdempotencyRecord<T> | undefined> {
  const v = await kv.get(key(repoId, idempotencyKey));
  if (v === undefined) return undefined;
  const r = JSON.parse(fromUtf8(v)) as IdempotencyRecord<T>;
  return now - r.createdAt < IDEMPOTENCY_TTL_MS ? r : undefined;
}

/** The write that stores a record (goes into the ref transaction's batch). */
export function idempotencyRecordOp<T>(repoId: number, idempotencyKey: string, record: IdempotencyRecord<T>): KvOp {
  return { type: 'put', key: key(repoId, idempotencyKey), value: utf8(JSON.stringify(record)) };
}

/** The error for a key reused with another request. */
export function idempotencyMismatch(): InvalidArgumentError {
  return new InvalidArgumentError('idempotencyKey was already used with a different request');
}
