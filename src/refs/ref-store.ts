/**
 * Refs of one repository: the regular space and the ephemeral space (a second set of refs
 * sharing the repository's objects; each ephemeral ref carries an expiry). `HEAD` is stored
 * as a symbolic ref in the regular space.
 *
 * A transaction is prepare → check → commit: under the repository's lock (refs/lock.ts) it
 * reads every touched ref, checks each expectation (compare-and-swap), asks the caller's
 * checks (objects exist, hooks), then writes everything in one database batch. Either every
 * update is applied or none.
 */
import { InvalidArgumentError, MissingObjectsError, RefConflictError } from '../errors.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, prefixRange, repoStringKey } from '../storage/keys.js';
import { type Oid, ZERO_OID, oidFromBytes, writeOid, parseOid } from '../object/oid.js';
import { parseRefName, type RefName } from './ref-name.js';
import type { RefLock } from './lock.js';
import type { Space } from './space.js';

/** @deprecated use `Space` (refs/space.ts). */
export type RefSpace = Space;

/** A stored ref value. */
export interface RefValue {
  oid: Oid;
  /** For annotated tags: the object the tag chain ends at. */
  peeled?: Oid;
  /** Ephemeral refs only: expiry in ms since the epoch. */
  expiresAt?: number;
}

/** One update of a transaction. `oldSha`: undefined = no check, zero = must not exist. `newSha` zero = delete. */
export interface RefUpdate {
  ref: string;
  oldSha?: string;
  newSha: string;
  /** Defaults to 'regular'. */
  space?: RefSpace;
  /** Ephemeral refs: expiry (ms since epoch). */
  expiresAt?: number;
  /** Peeled value to store beside an annotated tag (computed by the caller). */
  peeled?: Oid;
}

/** An update after the check: what the ref was and what it becomes. */
export interface AppliedUpdate {
  ref: RefName;
  space: RefSpace;
  oldSha: Oid;
  newSha: Oid;
}

/** Hooks a transaction runs under the lock, after the compare-and-swap checks and before the write. */
export interface TransactionChecks {
  /** Returns the subset of `oids` that do not exist; a non-empty answer aborts the transaction. */
  missingObjects?: (oids: Oid[]) => Promise<Oid[]>;
  /** Last word before the write (hooks); throwing aborts the transaction. */
  prepare?: (updates: AppliedUpdate[]) => Promise<void>;
  /** More writes to make in the same batch as the refs (e.g. an idempotency record). */
  extraOps?: KvOp[];
}

const SYMREF = 0x00;

/** Above this many created refs, name conflicts are checked against one listing of each space. */
const BULK_NAME_CHECK = 16;

/** The stored value of a symbolic ref (HEAD) pointing at `target`. */
export function encodeSymref(target: RefName): Uint8Array {
  const t = utf8(target);
  const v = new Uint8Array(1 + t.length);
  v[0] = SYMREF;
  v.set(t, 1);
  return v;
}

function encodeValue(v: RefValue, space: RefSpace): Uint8Array {
  const ephemeral = space === 'ephemeral';
  const out = new Uint8Array(20 + (ephemeral ? 8 : 0) + (v.peeled ? 20 : 0));
  writeOid(v.oid, out, 0);
  let o = 20;
  if (ephemeral) {
    new DataView(out.buffer).setFloat64(20, v.expiresAt ?? Number.MAX_SAFE_INTEGER);
    o = 28;
  }
  if (v.peeled) writeOid(v.peeled, out, o);
  return out;
}

function decodeValue(b: Uint8Array, space: RefSpace): RefValue {
  const v: RefValue = { oid: oidFromBytes(b, 0) };
  let o = 20;
  if (space === 'ephemeral') {
    v.expiresAt = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(20);
    o = 28;
  }
  if (b.length >= o + 20) v.peeled = oidFromBytes(b, o);
  return v;
}

function tagOf(space: RefSpace): number {
  return space === 'ephemeral' ? TAG.ephemeral : TAG.ref;
}

/** Refs of one repository. */
export class RefStore {
  readonly #kv: Kv;
  readonly #repoId: number;
  readonly #lock: RefLock;
  readonly #now: () => number;

  constructor(kv: Kv, repoId: number, lock: RefLock, now: () => number = Date.now) {
    this.#kv = kv;
    this.#repoId = repoId;
    this.#lock = lock;
    this.#now = now;
  }

  #key(ref: string, space: RefSpace): Uint8Array {
    return repoStringKey(tagOf(space), this.#repoId, ref);
  }

  /** The full ref name `HEAD` points at, or undefined. */
  async head(): Promise<string | undefined> {
    const v = await this.#kv.get(this.#key('HEAD', 'regular'));
    if (v === undefined || v[0] !== SYMREF) return undefined;
    return fromUtf8(v, 1);
  }

  /** Points `HEAD` at a full ref name (which need not exist yet). */
  async setHead(target: string): Promise<void> {
    await this.#kv.batch([{ type: 'put', key: this.#key('HEAD', 'regular'), value: encodeSymref(parseRefName(target)) }]);
  }

  /** Value of a ref (expired ephemeral refs read as missing). */
  async get(ref: string, space: RefSpace = 'regular'): Promise<RefValue | undefined> {
    if (ref === 'HEAD') {
      const target = await this.head();
      return target === undefined ? undefined : this.get(target, space);
    }
    const b = await this.#kv.get(this.#key(ref, space));
    if (b === undefined) return undefined;
    const v = decodeValue(b, space);
    if (v.expiresAt !== undefined && v.expiresAt <= this.#now()) return undefined;
    return v;
  }

  /** Every ref of a space under `prefix` (default all of `refs/`), sorted by name. */
  async list(space: RefSpace = 'regular', prefix = 'refs/', options: { includeExpired?: boolean } = {}): Promise<[RefName, RefValue][]> {
    const out: [RefName, RefValue][] = [];
    const now = this.#now();
    for await (const [k, b] of this.#kv.entries(prefixRange(this.#key(prefix, space)))) {
      const v = decodeValue(b, space);
      if (!options.includeExpired && v.expiresAt !== undefined && v.expiresAt <= now) continue;
      out.push([fromUtf8(k, 5) as RefName, v]);
    }
    return out;
  }

  /** Applies `updates` all-or-nothing; see the module comment. Returns what changed. */
  async transaction(updates: readonly RefUpdate[], checks: TransactionChecks = {}): Promise<AppliedUpdate[]> {
    if (!Array.isArray(updates) || updates.length === 0) throw new InvalidArgumentError('a transaction needs at least one update');
    const parsed = updates.map((u, i) => {
      if (u === null || typeof u !== 'object') throw new InvalidArgumentError(`update ${i} must be an object`);
      const space: RefSpace = u.space ?? 'regular';
      if (space !== 'regular' && space !== 'ephemeral') throw new InvalidArgumentError(`update ${i}: unknown ref space`);
      return {
        ref: parseRefName(u.ref),
        space,
        oldSha: u.oldSha === undefined ? undefined : parseOid(u.oldSha, `update ${i} oldSha`),
        newSha: parseOid(u.newSha, `update ${i} newSha`),
        expiresAt: u.expiresAt,
        peeled: u.peeled,
      };
    });
    const seen = new Set<string>();
    for (const u of parsed) {
      const id = `${u.space}:${u.ref}`;
      if (seen.has(id)) throw new InvalidArgumentError(`ref ${u.ref} appears twice in one transaction`);
      seen.add(id);
    }
    return this.#lock.run(String(this.#repoId), async () => {
      const current = await this.#kv.getMany(parsed.map((u) => this.#key(u.ref, u.space)));
      const now = this.#now();
      const applied: AppliedUpdate[] = parsed.map((u, i) => {
        const b = current[i];
        let cur: Oid = ZERO_OID;
        if (b !== undefined) {
          const v = decodeValue(b, u.space);
          if (v.expiresAt === undefined || v.expiresAt > now) cur = v.oid;
        }
        if (u.oldSha !== undefined && u.oldSha !== cur) {
          const expected = u.oldSha === ZERO_OID ? 'to not exist' : `at ${u.oldSha}`;
          const actual = cur === ZERO_OID ? 'does not exist' : `is at ${cur}`;
          throw new RefConflictError(`ref ${u.ref} was expected ${expected} but ${actual}`, {
            details: { ref: u.ref, expected: u.oldSha, actual: cur },
          });
        }
        return { ref: u.ref, space: u.space, oldSha: cur, newSha: u.newSha };
      });
      await this.#checkNameConflicts(applied);
      const targets = parsed.filter((u) => u.newSha !== ZERO_OID).map((u) => u.newSha);
      if (checks.missingObjects && targets.length > 0) {
        const missing = await checks.missingObjects([...new Set(targets)]);
        if (missing.length > 0) {
          throw new MissingObjectsError(`cannot point a ref at missing object ${missing[0]}`, { details: { missing } });
        }
      }
      if (checks.prepare) await checks.prepare(applied);
      const ops: KvOp[] = parsed.map((u) =>
        u.newSha === ZERO_OID
          ? { type: 'del', key: this.#key(u.ref, u.space) }
          : { type: 'put', key: this.#key(u.ref, u.space), value: encodeValue({ oid: u.newSha, peeled: u.peeled, expiresAt: u.expiresAt }, u.space) },
      );
      if (checks.extraOps) ops.push(...checks.extraOps);
      await this.#kv.batch(ops);
      return applied;
    });
  }

  /**
   * Git cannot hold `refs/heads/a` and `refs/heads/a/b` at once (a ref is a file, so it cannot
   * also be a directory): a client fetching both fails. A created ref must not sit below an
   * existing ref nor above one, counting the transaction's own deletes and creates. The
   * ephemeral view shows ephemeral refs over regular ones, so ephemeral names are also checked
   * against the regular space.
   */
  async #checkNameConflicts(applied: readonly AppliedUpdate[]): Promise<void> {
    const created = applied.filter((u) => u.oldSha === ZERO_OID && u.newSha !== ZERO_OID);
    if (created.length === 0) return;
    // Many creates at once (a push of every tag): one scan of each space, checked in memory,
    // instead of a range scan per created ref.
    if (created.length > BULK_NAME_CHECK) return this.#checkNameConflictsBulk(applied, created);
    const after = new Map<string, boolean>(applied.map((u) => [`${u.space}:${u.ref}`, u.newSha !== ZERO_OID]));
    const exists = async (ref: string, space: RefSpace) => after.get(`${space}:${ref}`) ?? (await this.get(ref, space)) !== undefined;
    for (const u of created) {
      const spaces: RefSpace[] = u.space === 'ephemeral' ? ['ephemeral', 'regular'] : ['regular'];
      const parts = u.ref.split('/');
      for (const space of spaces) {
        let conflict: string | undefined;
        for (let i = 3; i < parts.length && conflict === undefined; i++) {
          const above = parts.slice(0, i).join('/');
          if (await exists(above, space)) conflict = above;
        }
        if (conflict === undefined) {
          const below = [...(await this.list(space, `${u.ref}/`)).map(([r]) => r as string), ...[...after].filter(([k, live]) => live && k.startsWith(`${space}:${u.ref}/`)).map(([k]) => k.slice(space.length + 1))];
          conflict = below.find((r) => after.get(`${space}:${r}`) !== false);
        }
        if (conflict !== undefined) {
          throw new RefConflictError(`cannot create ref ${u.ref}: ref ${conflict} exists${space !== u.space ? ` (${space})` : ''}, and git cannot hold both`, {
            details: { ref: u.ref, conflictsWith: conflict },
          });
        }
      }
    }
  }

  /** #checkNameConflicts over the full list of each space's names, for large transactions. */
  async #checkNameConflictsBulk(applied: readonly AppliedUpdate[], created: readonly AppliedUpdate[]): Promise<void> {
    const spaces = new Set<RefSpace>(created.flatMap((u): RefSpace[] => (u.space === 'ephemeral' ? ['ephemeral', 'regular'] : ['regular'])));
    // Per space: the names that exist once this transaction applies, and for every directory
    // prefix of them ("refs/heads/a" of "refs/heads/a/b") one name below it.
    const names = new Map<RefSpace, { all: Set<string>; below: Map<string, string> }>();
    for (const space of spaces) {
      const all = new Set<string>((await this.list(space, 'refs/')).map(([r]) => r as string));
      for (const u of applied) {
        if (u.space !== space) continue;
        if (u.newSha === ZERO_OID) all.delete(u.ref);
        else all.add(u.ref);
      }
      const below = new Map<string, string>();
      for (const name of all) {
        for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
          const dir = name.slice(0, i);
          if (!below.has(dir)) below.set(dir, name);
        }
      }
      names.set(space, { all, below });
    }
    for (const u of created) {
      const parts = u.ref.split('/');
      for (const space of u.space === 'ephemeral' ? (['ephemeral', 'regular'] as const) : (['regular'] as const)) {
        const { all, below } = names.get(space)!;
        let conflict: string | undefined;
        for (let i = 3; i < parts.length && conflict === undefined; i++) {
          const above = parts.slice(0, i).join('/');
          if (all.has(above)) conflict = above;
        }
        conflict ??= below.get(u.ref);
        if (conflict !== undefined) {
          throw new RefConflictError(`cannot create ref ${u.ref}: ref ${conflict} exists${space !== u.space ? ` (${space})` : ''}, and git cannot hold both`, {
            details: { ref: u.ref, conflictsWith: conflict },
          });
        }
      }
    }
  }

  /** Runs `fn` holding this repository's transaction lock (no transaction can interleave). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(String(this.#repoId), fn);
  }

  /** Removes ephemeral refs whose expiry has passed (under the lock, re-checked); returns them. */
  async sweepExpired(): Promise<AppliedUpdate[]> {
    return this.#lock.run(String(this.#repoId), async () => {
      const now = this.#now();
      const expired = (await this.list('ephemeral', 'refs/', { includeExpired: true })).filter(([, v]) => v.expiresAt !== undefined && v.expiresAt <= now);
      await this.#kv.batch(expired.map(([ref]) => ({ type: 'del' as const, key: this.#key(ref, 'ephemeral') })));
      return expired.map(([ref, v]) => ({ ref, space: 'ephemeral' as const, oldSha: v.oid, newSha: ZERO_OID }));
    });
  }
}

