/**
 * The sweep's coordination across processes sharing one database (`openEngine({ coordination:
 * 'database' })`): writes in flight, closed sweep gates and pinned objects are records in the
 * database ('L' keys), and one sweeper at a time is a leader lease ('G' keys). Nothing here
 * runs with the default ('process'), where SweepGuard's memory is the whole truth.
 *
 * Liveness: each process (`holder`, 8 random bytes) keeps one record `'G' alive/<holder>` whose
 * value is an expiry, rewritten every `leaseMs / 3`. Every other record names its holder and
 * carries no expiry of its own: it counts while its holder's alive record has not expired. A
 * process that dies stops renewing, so its writes, gates, pins and leadership lapse within
 * `leaseMs` (default 30 s) and are deleted by whoever finds them. Renewing is one small write
 * per process, however many records it holds. Expiries are wall-clock times: the processes'
 * clocks must agree to well within `leaseMs`.
 *
 * Mutual exclusion without a compare-and-swap: each side writes its own record, then reads the
 * other side's. A write puts `'w'` then reads the gates; a sweep puts `'g'` then reads the
 * writes. Each statement is committed before the next is sent, so whichever record lands second,
 * its writer's read sees the first: at least one side backs off (deletes its record and tries
 * again later), never neither. The leader lease works the same way among candidates.
 */
import { fromUtf8, utf8 } from '../platform/bytes.js';
import { TAG, prefixRange, repoKey } from '../storage/keys.js';
import type { Kv } from '../storage/kv.js';
import type { Oid } from '../object/oid.js';
import { oidFromBytes, oidToBytes } from '../object/oid.js';

/** Ids a pack being sent pins: hex ids, or one table of raw ids, 20 bytes each (a clone plan's, made hex only if a sweep runs meanwhile). */
export type PinnedIds = readonly Oid[] | Uint8Array;

/** Whether an object is pinned (SweepGuard.exclusive): by a pack being sent in this process or, with a database's coordination, in another. */
export interface PinnedTest {
  has(oid: Oid): boolean;
}

/** What a repository's SweepGuard asks of the other processes (one per repository). */
export interface RemoteGuard {
  /** Records a write in flight once no other process's sweep holds the gate; returns its release. */
  beginWrite(): Promise<() => void>;
  /** Records objects a pack being sent needs; returns its release. */
  pin(oids: PinnedIds): Promise<() => void>;
  /** Closes the gate if no other process has a write in flight; false (gate left open) when one has. */
  tryClose(): Promise<boolean>;
  /** Opens the gate closed by `tryClose`. */
  open(): Promise<void>;
  /** Objects pinned by the other processes. */
  pinned(): Promise<Set<Oid>>;
}

/** Options of the database coordination. */
export interface LeaseOptions {
  /** How long a silent process's records still count, in ms. Default 30 000. */
  leaseMs?: number;
}

const WRITE = 0x77; // w
const GATE = 0x67; // g
const PIN = 0x70; // p
/** How long a write waits between looks at a closed gate (the gate is closed only for a sweep's last step). */
const GATE_POLL_MS = 25;

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function expiryBytes(ms: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, ms);
  return b;
}

function globalKey(s: string): Uint8Array {
  const n = utf8(s);
  const k = new Uint8Array(1 + n.length);
  k[0] = TAG.global;
  k.set(n, 1);
  return k;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Leases of one process over a shared database: see the module comment. */
export class LeaseCoordinator {
  readonly #kv: Kv;
  readonly #leaseMs: number;
  /** This process's id in the database (8 random bytes). */
  readonly holder = crypto.getRandomValues(new Uint8Array(8));
  readonly #holderHex = hex(this.holder);
  #seq = 0;
  #alive: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Records whose delete failed (the database was away): retried with each renewal. */
  readonly #stale = new Map<string, Uint8Array>();
  #closed = false;
  /** Gate records this process closed, by repository id (one sweep at a time per repository and process). */
  readonly #gates = new Map<number, Uint8Array>();

  constructor(kv: Kv, options: LeaseOptions = {}) {
    const leaseMs = options.leaseMs ?? 30_000;
    if (!(Number.isFinite(leaseMs) && leaseMs >= 100)) throw new TypeError('leaseMs must be at least 100');
    this.#kv = kv;
    this.#leaseMs = leaseMs;
  }

  /** Writes this process's alive record (once, then every leaseMs / 3 in the background). */
  #ready(): Promise<void> {
    this.#alive ??= this.#renew().then(() => {
      this.#timer = setInterval(() => void this.#renew().catch(() => undefined), this.#leaseMs / 3);
      this.#timer.unref?.();
    });
    return this.#alive.catch((err) => {
      this.#alive = undefined;
      throw err;
    });
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    const ops = [...this.#stale.values()].map((key) => ({ type: 'del' as const, key }));
    ops.push({ type: 'put', key: globalKey(`alive/${this.#holderHex}`), value: expiryBytes(Date.now() + this.#leaseMs) } as never);
    await this.#kv.batch(ops);
    this.#stale.clear();
  }

  /** The holders among `holders` (hex) whose alive record has not expired. */
  async #live(holders: Set<string>): Promise<Set<string>> {
    holders.delete(this.#holderHex);
    if (holders.size === 0) return holders;
    const ids = [...holders];
    const values = await this.#kv.getMany(ids.map((h) => globalKey(`alive/${h}`)));
    const now = Date.now();
    const live = new Set<string>();
    const dead: Uint8Array[] = [];
    values.forEach((v, i) => {
      if (v !== undefined && v.length === 8 && new DataView(v.buffer, v.byteOffset, 8).getFloat64(0) > now) live.add(ids[i]!);
      else if (v !== undefined) dead.push(globalKey(`alive/${ids[i]}`));
    });
    if (dead.length > 0) await this.#kv.batch(dead.map((key) => ({ type: 'del', key })));
    return live;
  }

  /** Records of one kind in a repository: holder (hex) → keys and values; drops those of dead holders. */
  async #scan(repoId: number, kind: number): Promise<{ key: Uint8Array; holder: string; value: Uint8Array }[]> {
    const out: { key: Uint8Array; holder: string; value: Uint8Array }[] = [];
    for await (const [key, value] of this.#kv.entries(prefixRange(repoKey(TAG.lease, repoId, new Uint8Array([kind]))))) {
      out.push({ key, holder: hex(key.subarray(6, 14)), value });
    }
    const live = await this.#live(new Set(out.map((r) => r.holder)));
    const dead = out.filter((r) => r.holder !== this.#holderHex && !live.has(r.holder));
    if (dead.length > 0) await this.#kv.batch(dead.map((r) => ({ type: 'del', key: r.key })));
    return out.filter((r) => r.holder !== this.#holderHex && live.has(r.holder));
  }

  #key(repoId: number, kind: number): Uint8Array {
    const suffix = new Uint8Array(13);
    suffix[0] = kind;
    suffix.set(this.holder, 1);
    new DataView(suffix.buffer).setUint32(9, this.#seq++ >>> 0);
    return repoKey(TAG.lease, repoId, suffix);
  }

  /** Deletes a record now; when that fails, with the next renewal (until then it only holds back a sweep). */
  #drop(key: Uint8Array): Promise<void> {
    return this.#kv.batch([{ type: 'del', key }]).catch(() => void this.#stale.set(hex(key), key));
  }

  /** The coordination of one repository's sweep guard. */
  forRepo(repoId: number): RemoteGuard {
    const gates = this.#gates;
    return {
      beginWrite: async () => {
        await this.#ready();
        for (;;) {
          const key = this.#key(repoId, WRITE);
          await this.#kv.batch([{ type: 'put', key, value: new Uint8Array(0) }]);
          if ((await this.#scan(repoId, GATE)).length === 0) return () => void this.#drop(key);
          await this.#drop(key);
          await sleep(GATE_POLL_MS);
        }
      },
      pin: async (oids) => {
        await this.#ready();
        const key = this.#key(repoId, PIN);
        const value = oids instanceof Uint8Array ? oids : new Uint8Array(oids.length * 20);
        if (!(oids instanceof Uint8Array)) oids.forEach((oid, i) => value.set(oidToBytes(oid), i * 20));
        await this.#kv.batch([{ type: 'put', key, value }]);
        return () => void this.#drop(key);
      },
      tryClose: async () => {
        await this.#ready();
        const key = this.#key(repoId, GATE);
        await this.#kv.batch([{ type: 'put', key, value: new Uint8Array(0) }]);
        if ((await this.#scan(repoId, WRITE)).length === 0) {
          gates.set(repoId, key);
          return true;
        }
        await this.#drop(key);
        return false;
      },
      open: async () => {
        const key = gates.get(repoId);
        gates.delete(repoId);
        if (key !== undefined) await this.#drop(key);
      },
      pinned: async () => {
        const out = new Set<Oid>();
        for (const r of await this.#scan(repoId, PIN)) {
          for (let i = 0; i + 20 <= r.value.length; i += 20) out.add(oidFromBytes(r.value.subarray(i, i + 20)));
        }
        return out;
      },
    };
  }

  /**
   * Runs `fn` as the only holder of lease `name` among the live processes; `{ ran: false }`
   * when another holds it. Two candidates that try at the same moment both back off (never
   * neither), so a candidate that saw another tries twice more after a random pause of up to
   * 100 ms: a tie then rarely costs a round, and a real holder costs three small reads.
   */
  async lead<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.#tryLead(name, fn);
      if (r.ran || attempt === 2 || this.#closed) return r;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  }

  async #tryLead<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    await this.#ready();
    const prefix = globalKey(`lead/${name}/`);
    const key = globalKey(`lead/${name}/${this.#holderHex}`);
    await this.#kv.batch([{ type: 'put', key, value: new Uint8Array(0) }]);
    try {
      const holders = new Set<string>();
      const found: Uint8Array[] = [];
      for await (const k of this.#kv.keys(prefixRange(prefix))) {
        holders.add(fromUtf8(k.subarray(prefix.length)));
        found.push(k);
      }
      const live = await this.#live(new Set(holders));
      const dead = found.filter((k) => {
        const h = fromUtf8(k.subarray(prefix.length));
        return h !== this.#holderHex && !live.has(h);
      });
      if (dead.length > 0) await this.#kv.batch(dead.map((k) => ({ type: 'del', key: k })));
      if (live.size > 0) return { ran: false };
      return { ran: true, value: await fn() };
    } finally {
      await this.#drop(key);
    }
  }

  /** Stops renewing and withdraws this process's alive record (its records lapse with it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#alive === undefined) return;
    await this.#kv.batch([{ type: 'del', key: globalKey(`alive/${this.#holderHex}`) }]).catch(() => undefined);
  }
}
