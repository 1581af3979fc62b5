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
import { ephemeralRefKey, prefixRange, refKey } from '../storage/keys.js';
import { type Oid, ZERO_OID, oidFromBytes, writeOid, parseOid } from '../object/oid.js';
import { parseRefName, type RefName } from './ref-name.js';
import type { RefLock } from './lock.js';
import { isExpired, spacesOf, type Space } from './space.js';

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

/** One update of a transaction. `oldOid`: undefined = no check, zero = must not exist. `newOid` zero = delete. */
export interface RefUpdate {
  ref: string;
  oldOid?: string;
  newOid: string;
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
  oldOid: Oid;
  newOid: Oid;
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

/** How the name-conflict check looks names up: exists once the transaction lands, and one name below a directory. */
interface RefNames {
  has(ref: string, space: RefSpace): boolean | Promise<boolean>;
  below(ref: string, space: RefSpace): string | undefined | Promise<string | undefined>;
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

/** Refs of one repository. */
export class RefStore {
  readonly #kv: Kv;
  readonly #repoId: number;
  readonly #lock: RefLock;
  readonly #now: () => number;

  constructor(kv: Kv, repoId: number, lock: RefLock, now: () => number = () => Date.now()) {
    this.#kv = kv;
    this.#repoId = repoId;
    this.#lock = lock;
    this.#now = now;
  }

  #key(ref: string, space: RefSpace): Uint8Array {
    return space === 'ephemeral' ? ephemeralRefKey(this.#repoId, ref) : refKey(this.#repoId, ref);
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
    if (v.expiresAt !== undefined && isExpired(v.expiresAt, this.#now())) return undefined;
    return v;
  }

  /** Every ref of a space under `prefix` (default all of `refs/`), sorted by name. */
  async list(space: RefSpace = 'regular', prefix = 'refs/', options: { includeExpired?: boolean } = {}): Promise<[RefName, RefValue][]> {
    const out: [RefName, RefValue][] = [];
    const now = this.#now();
    for await (const [k, b] of this.#kv.entries(prefixRange(this.#key(prefix, space)))) {
      const v = decodeValue(b, space);
      if (!options.includeExpired && v.expiresAt !== undefined && isExpired(v.expiresAt, now)) continue;
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
        // The messages keep the JSON API's field names, which callers there see.
        oldOid: u.oldOid === undefined ? undefined : parseOid(u.oldOid, `update ${i} oldSha`),
        newOid: parseOid(u.newOid, `update ${i} newSha`),
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
          if (v.expiresAt === undefined || !isExpired(v.expiresAt, now)) cur = v.oid;
        }
        if (u.oldOid !== undefined && u.oldOid !== cur) {
          const expected = u.oldOid === ZERO_OID ? 'to not exist' : `at ${u.oldOid}`;
          const actual = cur === ZERO_OID ? 'does not exist' : `is at ${cur}`;
          throw new RefConflictError(`ref ${u.ref} was expected ${expected} but ${actual}`, {
            details: { ref: u.ref, expected: u.oldOid, actual: cur },
          });
        }
        return { ref: u.ref, space: u.space, oldOid: cur, newOid: u.newOid };
      });
      await this.#checkNameConflicts(applied);
      const targets = parsed.filter((u) => u.newOid !== ZERO_OID).map((u) => u.newOid);
      if (checks.missingObjects && targets.length > 0) {
        const missing = await checks.missingObjects([...new Set(targets)]);
        if (missing.length > 0) {
          throw new MissingObjectsError(`cannot point a ref at missing object ${missing[0]}`, { details: { missing } });
        }
      }
      if (checks.prepare) await checks.prepare(applied);
      const ops: KvOp[] = parsed.map((u) =>
        u.newOid === ZERO_OID
          ? { type: 'del', key: this.#key(u.ref, u.space) }
          : { type: 'put', key: this.#key(u.ref, u.space), value: encodeValue({ oid: u.newOid, peeled: u.peeled, expiresAt: u.expiresAt }, u.space) },
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
   * against the regular space. One rule; only how names are looked up depends on the size:
   * a few creates probe the store per name, many (a push of every tag) read each space once.
   */
  async #checkNameConflicts(applied: readonly AppliedUpdate[]): Promise<void> {
    const created = applied.filter((u) => u.oldOid === ZERO_OID && u.newOid !== ZERO_OID);
    if (created.length === 0) return;
    const names = created.length > BULK_NAME_CHECK ? await this.#listedNames(applied, created) : this.#probedNames(applied);
    for (const u of created) {
      const parts = u.ref.split('/');
      for (const space of spacesOf(u.space)) {
        let conflict: string | undefined;
        for (let i = 3; i < parts.length && conflict === undefined; i++) {
          const above = parts.slice(0, i).join('/');
          if (await names.has(above, space)) conflict = above;
        }
        conflict ??= await names.below(u.ref, space);
        if (conflict !== undefined) {
          throw new RefConflictError(`cannot create ref ${u.ref}: ref ${conflict} exists${space !== u.space ? ` (${space})` : ''}, and git cannot hold both`, {
            details: { ref: u.ref, conflictsWith: conflict },
          });
        }
      }
    }
  }

  /** Names as they will be once `applied` lands, looked up in the store one name (or one range) at a time. */
  #probedNames(applied: readonly AppliedUpdate[]): RefNames {
    const after = new Map<string, boolean>(applied.map((u) => [`${u.space}:${u.ref}`, u.newOid !== ZERO_OID]));
    return {
      has: async (ref, space) => after.get(`${space}:${ref}`) ?? (await this.get(ref, space)) !== undefined,
      below: async (ref, space) => {
        const stored = (await this.list(space, `${ref}/`)).map(([r]) => r as string);
        const added = [...after].filter(([k, live]) => live && k.startsWith(`${space}:${ref}/`)).map(([k]) => k.slice(space.length + 1));
        return [...stored, ...added].find((r) => after.get(`${space}:${r}`) !== false);
      },
    };
  }

  /**
   * Names as they will be once `applied` lands, from one listing of each space the creates
   * touch: the set of names, and for every directory prefix ("refs/heads/a" of
   * "refs/heads/a/b") one name below it.
   */
  async #listedNames(applied: readonly AppliedUpdate[], created: readonly AppliedUpdate[]): Promise<RefNames> {
    const names = new Map<RefSpace, { all: Set<string>; below: Map<string, string> }>();
    for (const space of new Set(created.flatMap((u) => spacesOf(u.space)))) {
      const all = new Set<string>((await this.list(space, 'refs/')).map(([r]) => r as string));
      for (const u of applied) {
        if (u.space !== space) continue;
        if (u.newOid === ZERO_OID) all.delete(u.ref);
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
    return { has: (ref, space) => names.get(space)!.all.has(ref), below: (ref, space) => names.get(space)!.below.get(ref) };
  }

  /** Runs `fn` holding this repository's transaction lock (no transaction can interleave). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(String(this.#repoId), fn);
  }

  /** Removes ephemeral refs whose expiry has passed (under the lock, re-checked); returns them. `extraOps` joins the batch. */
  async sweepExpired(extraOps?: (expired: AppliedUpdate[]) => Promise<KvOp[]>): Promise<AppliedUpdate[]> {
    return this.#lock.run(String(this.#repoId), async () => {
      const now = this.#now();
      const expired = (await this.list('ephemeral', 'refs/', { includeExpired: true })).filter(
        ([, v]) => v.expiresAt !== undefined && isExpired(v.expiresAt, now),
      );
      const applied = expired.map(([ref, v]) => ({ ref, space: 'ephemeral' as const, oldOid: v.oid, newOid: ZERO_OID }));
      const extra = applied.length > 0 && extraOps ? await extraOps(applied) : [];
      await this.#kv.batch([...expired.map(([ref]) => ({ type: 'del' as const, key: this.#key(ref, 'ephemeral') })), ...extra]);
      return applied;
    });
  }
}
