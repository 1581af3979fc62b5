/**
 * Merge bases and ahead/behind counts by git's paint-down walk (commit-reach.c
 * `paint_down_to_common`): commits are visited newest first (committer date), each painted
 * with the side(s) it is reachable from; a commit reached from both sides is a merge-base
 * candidate and stops painting below it; the walk ends when only commits reachable from both
 * remain. Candidates reachable from another candidate are dropped. `compare` uses the same walk
 * for the head-only and base-only commits.
 */
import type { Oid } from '../object/oid.js';
import type { Commit } from '../object/commit.js';
import type { ObjectStore } from '../object/object-store.js';

const BASE = 1;
const HEAD = 2;
const STALE = 4;
const RESULT = 8;

/** What the walk found: merge bases (best first), and the commits only one side reaches. */
export interface Painted {
  bases: Oid[];
  /** Commits reachable from head and not from base, newest first. */
  headOnly: { oid: Oid; commit: Commit }[];
  /** Commits reachable from base and not from head. */
  baseOnly: Oid[];
}

/** A max-heap of commits by committer date (ties: the one queued first). */
class DateQueue {
  readonly #items: { oid: Oid; date: number; seq: number }[] = [];
  #seq = 0;
  get size(): number {
    return this.#items.length;
  }
  push(oid: Oid, date: number): void {
    const a = this.#items;
    a.push({ oid, date, seq: this.#seq++ });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Oid {
    const a = this.#items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.#before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top.oid;
  }
  #before(x: { date: number; seq: number }, y: { date: number; seq: number }): boolean {
    return x.date > y.date || (x.date === y.date && x.seq < y.seq);
  }
}

/** Paints from `base` and `head` down to their common history. */
export async function paint(store: ObjectStore, base: Oid, head: Oid): Promise<Painted> {
  const flags = new Map<Oid, number>();
  const commits = new Map<Oid, Commit>();
  const queue = new DateQueue();
  const load = async (oids: Oid[]) => {
    const missing = oids.filter((o) => !commits.has(o));
    const decoded = await store.decodeMany(missing);
    missing.forEach((o, i) => {
      const d = decoded[i]!;
      if (d.type === 'commit') commits.set(o, d.commit);
    });
  };
  await load([base, head]);
  // How many times each commit is in the queue (git re-queues a commit that gains a flag).
  const queued = new Map<Oid, number>();
  const put = (o: Oid, f: number) => {
    flags.set(o, (flags.get(o) ?? 0) | f);
    queued.set(o, (queued.get(o) ?? 0) + 1);
    queue.push(o, commits.get(o)?.committer.timestamp ?? 0);
  };
  put(base, BASE);
  put(head, HEAD);
  const results: Oid[] = [];
  const nonStale = () => {
    for (const o of queued.keys()) if ((flags.get(o)! & STALE) === 0) return true;
    return false;
  };
  while (queue.size > 0 && nonStale()) {
    const oid = queue.pop();
    const n = queued.get(oid)! - 1;
    if (n === 0) queued.delete(oid);
    else queued.set(oid, n);
    let f = flags.get(oid)!;
    const both = (f & (BASE | HEAD)) === (BASE | HEAD);
    if (both && (f & (RESULT | STALE)) === 0) {
      f |= RESULT;
      results.push(oid);
    }
    if (both) f |= STALE;
    flags.set(oid, f);
    const c = commits.get(oid);
    if (c === undefined) continue;
    await load(c.parents);
    const want = f & (BASE | HEAD | STALE);
    for (const p of c.parents) if (((flags.get(p) ?? 0) & want) !== want) put(p, want);
  }
  const bases = await removeRedundant(store, results, commits);
  const headOnly: { oid: Oid; commit: Commit }[] = [];
  const baseOnly: Oid[] = [];
  for (const [o, fl] of flags) {
    const side = fl & (BASE | HEAD);
    if (side === HEAD && commits.has(o)) headOnly.push({ oid: o, commit: commits.get(o)! });
    else if (side === BASE) baseOnly.push(o);
  }
  headOnly.sort((x, y) => y.commit.committer.timestamp - x.commit.committer.timestamp);
  return { bases, headOnly, baseOnly };
}

/** Drops candidates reachable from another candidate (git's remove_redundant), keeping date order. */
async function removeRedundant(store: ObjectStore, candidates: Oid[], commits: Map<Oid, Commit>): Promise<Oid[]> {
  if (candidates.length <= 1) return candidates;
  const redundant = new Set<Oid>();
  for (const c of candidates) {
    if (redundant.has(c)) continue;
    // Everything reachable from c's parents, down to the oldest candidate's date.
    const floor = Math.min(...candidates.map((x) => commits.get(x)?.committer.timestamp ?? 0)) - 86_400;
    const seen = new Set<Oid>();
    let level = [...(commits.get(c)?.parents ?? [])];
    while (level.length > 0) {
      const decoded = await store.decodeMany(level.filter((o) => !seen.has(o)));
      const next: Oid[] = [];
      for (const d of decoded) {
        if (d.type !== 'commit') continue;
        for (const p of d.commit.parents) if (!seen.has(p)) next.push(p);
      }
      for (const o of level) {
        seen.add(o);
        if (candidates.includes(o)) redundant.add(o);
      }
      level = [...new Set(next)].filter((o) => !seen.has(o) && (commits.get(o)?.committer.timestamp ?? Infinity) >= floor);
    }
  }
  return candidates.filter((c) => !redundant.has(c));
}
