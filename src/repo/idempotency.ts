/**
 * Idempotency records: the first result of a write asked for with an `idempotencyKey`, kept
 * so that a retry of the same request returns that result instead of writing again.
 *
 * Durable form (storage/keys.ts): `'I' repoId key` -> JSON
 *   { "fingerprint": string, "status": number, "body": any, "createdAt": ms }
 * Records live with their repository (deleting it clears them) and are ignored once older
 * than `ttlSeconds`. Concurrent calls with one key in one process share one run.
 *
 * Known gap: the record is written right after the write it describes, not in the same
 * database batch, so a crash between the two lets one retry write again.
 */
import { InvalidArgumentError } from '../errors.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';
import { Kv, type AnyLevel } from '../storage/kv.js';
import { TAG, repoStringKey } from '../storage/keys.js';
import type { Repository } from './repository.js';

/** A stored result. */
export interface IdempotencyRecord {
  /** Digest of the request the key was first used with. */
  fingerprint: string;
  status: number;
  body: unknown;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** What `run` returns: the result, and whether it was replayed from a record. */
export interface IdempotentResult {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** Remembers results per (repository, key). */
export interface IdempotencyStore {
  /**
   * Runs `fn` once per (repo, key): a later call with the same key gets the stored result; the
   * same key with a different `fingerprint` is an InvalidArgumentError. Failed runs are not stored.
   */
  run(repo: Repository, key: string, fingerprint: string, fn: () => Promise<{ status: number; body: unknown }>): Promise<IdempotentResult>;
}

/** Options of the idempotency stores. */
export interface IdempotencyOptions {
  /** How long a record counts, in seconds. Default 24 hours. */
  ttlSeconds?: number;
  /** Current time in ms (tests). */
  now?: () => number;
}

/** Longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** Checks an idempotency key: 1..200 printable ASCII characters. */
export function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new InvalidArgumentError(`idempotencyKey must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`);
  }
  return key;
}

interface Backing {
  get(repoId: number, key: string): Promise<IdempotencyRecord | undefined>;
  put(repoId: number, key: string, record: IdempotencyRecord): Promise<void>;
}

function makeStore(backing: Backing, options: IdempotencyOptions): IdempotencyStore {
  const ttlMs = (options.ttlSeconds ?? 24 * 3600) * 1000;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, { fingerprint: string; promise: Promise<{ status: number; body: unknown }> }>();

  const mismatch = () => new InvalidArgumentError('idempotencyKey was already used with a different request');

  return {
    async run(repo, key, fingerprint, fn) {
      checkIdempotencyKey(key);
      const repoId = repo.objects.repoId;
      const slot = `${repoId}\0${key}`;
      const pending = inFlight.get(slot);
      if (pending) {
        if (pending.fingerprint !== fingerprint) throw mismatch();
        return { ...(await pending.promise), replayed: true };
      }
      const promise = (async () => {
        const found = await backing.get(repoId, key);
        if (found && now() - found.createdAt < ttlMs) {
          if (found.fingerprint !== fingerprint) throw mismatch();
          return { status: found.status, body: found.body, replayed: true };
        }
        const r = await fn();
        await backing.put(repoId, key, { fingerprint, status: r.status, body: r.body, createdAt: now() });
        return { ...r, replayed: false };
      })();
      inFlight.set(slot, { fingerprint, promise });
      try {
        return await promise;
      } finally {
        inFlight.delete(slot);
      }
    },
  };
}

/** A store that keeps records in the database (any abstract-level), next to the repository's data. */
export function createIdempotencyStore(db: AnyLevel, options: IdempotencyOptions = {}): IdempotencyStore {
  const kv = new Kv(db);
  return makeStore(
    {
      async get(repoId, key) {
        const v = await kv.get(repoStringKey(TAG.idempotency, repoId, key));
        return v === undefined ? undefined : (JSON.parse(fromUtf8(v)) as IdempotencyRecord);
      },
      async put(repoId, key, record) {
        await kv.batch([{ type: 'put', key: repoStringKey(TAG.idempotency, repoId, key), value: utf8(JSON.stringify(record)) }]);
      },
    },
    options,
  );
}

/** A store that keeps records in memory only (lost on restart); for tests and embedders without a db handle. */
export function createMemoryIdempotencyStore(options: IdempotencyOptions = {}): IdempotencyStore {
  const map = new Map<string, IdempotencyRecord>();
  return makeStore(
    {
      async get(repoId, key) {
        return map.get(`${repoId}\0${key}`);
      },
      async put(repoId, key, record) {
        map.set(`${repoId}\0${key}`, record);
      },
    },
    options,
  );
}
