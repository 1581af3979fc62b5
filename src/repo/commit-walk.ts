/**
 * Commit walks over the commit graph (commit-graph.ts: records read in batches, never a
 * commit decoded when its record exists): which commits a fetch sends (wants minus what the
 * client has, cut at a depth, a date or other refs, with the resulting shallow boundary),
 * ancestry tests and git's "ready" test of a negotiation. What the client has is found in
 * generation order (`paint`), so a fetch reads the client's history only down to the
 * generation of what it may still be sent: it costs what changed, not what exists.
 */
import { InvalidArgumentError, InvalidObjectError, NotFoundError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { ObjectFilter } from '../protocol/backend.js';
import { type CommitGraph, type CommitRecord, SCAN_AFTER_WHOLE, commitGraph } from './commit-graph.js';
import { peel } from './revision.js';
import type { WalkBudget } from '../protocol/walk-budget.js';

/** What to send. */
export interface ObjectPlanInput {
  wants: readonly Oid[];
  haves?: readonly Oid[];
  clientShallows?: readonly Oid[];
  depth?: number;
  deepenRelative?: boolean;
  deepenSince?: number;
  /** Commits whose history is excluded (`deepen-not`, already resolved). */
  deepenNot?: readonly Oid[];
  filter?: ObjectFilter;
  /** Annotated tags to add when they point at a sent object (`include-tag`): tag object id and peeled target. */
  includeTags?: readonly { oid: Oid; peeled: Oid }[];
  /** `thin-pack`: deltas may use bases the client has and the pack does not carry. */
  thinPack?: boolean;
  /** `ofs-delta`: deltas whose base is in the pack may be written as offset deltas. */
  ofsDelta?: boolean;
  /** The request's walk budget (protocol/walk-budget.ts), charged by every walk of the plan. */
  walk?: WalkBudget;
}

/** The depth git sends for `--unshallow` (and `--depth` of 2^31 - 1 or more). */
export const INFINITE_DEPTH = 0x7fffffff;

/**
 * Walks commits breadth-first from `starts`, one batched read of graph records per level,
 * each commit once (`starts` are depth 1). `visit` sees each commit and returns whether to
 * follow its parents; objects that are not commits are passed over.
 */
async function walkCommitLevels(
  graph: CommitGraph,
  starts: Iterable<Oid>,
  visit: (oid: Oid, record: CommitRecord, depth: number) => boolean,
  skip: (oid: Oid) => boolean = () => false,
  walk?: WalkBudget,
  scanAfter?: number,
): Promise<void> {
  const seen = new Set<Oid>();
  const read = graph.reader(scanAfter);
  let level: Oid[] = [];
  for (const o of starts) if (!seen.has(o) && !skip(o)) seen.add(o), level.push(o);
  for (let depth = 1; level.length > 0; depth++) {
    walk?.commits(level.length);
    const records = await read(level);
    const next: Oid[] = [];
    level.forEach((oid, i) => {
      const r = records[i];
      if (r === undefined || !visit(oid, r, depth)) return;
      for (const p of r.parents) if (!seen.has(p) && !skip(p)) seen.add(p), next.push(p);
    });
    level = next;
  }
}

/** A max-heap of commits by generation. */
class GenerationHeap {
  readonly #oids: Oid[] = [];
  readonly #gens: number[] = [];

  get size(): number {
    return this.#oids.length;
  }

  top(): number {
    return this.#gens[0]!;
  }

  push(oid: Oid, gen: number): void {
    const o = this.#oids;
    const g = this.#gens;
    let i = o.length;
    o.push(oid), g.push(gen);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (g[up]! >= gen) break;
      (o[i] = o[up]!), (g[i] = g[up]!);
      i = up;
    }
    (o[i] = oid), (g[i] = gen);
  }

  pop(): Oid {
    const o = this.#oids;
    const g = this.#gens;
    const out = o[0]!;
    const lastO = o.pop()!;
    const lastG = g.pop()!;
    const n = o.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && g[c + 1]! > g[c]!) c++;
        if (g[c]! <= lastG) break;
        (o[i] = o[c]!), (g[i] = g[c]!);
        i = c;
      }
      (o[i] = lastO), (g[i] = lastG);
    }
    return out;
  }
}

const OURS = 1;
const THEIRS = 2;

/**
 * Which commits reachable from `ours` are reachable from `theirs` too: both sides marked in
 * generation order, highest first, so a commit's marks are final when it is taken (its
 * children, all of higher generation, came before). The walk ends when no commit still to
 * take is ours alone: `theirs`' history is read down to the generation of what `ours` may
 * still reach, no further. `followOurs`/`followTheirs` say whether a commit passes its side
 * to its parents. Returns the commits found on their side (exact for every commit the ours
 * side reaches, and for the parents of those).
 */
async function paint(
  graph: CommitGraph,
  ours: readonly Oid[],
  theirs: readonly Oid[],
  followOurs: (oid: Oid, r: CommitRecord) => boolean,
  followTheirs: (oid: Oid) => boolean,
  walk?: WalkBudget,
): Promise<Set<Oid>> {
  const flags = new Map<Oid, number>();
  const queued = new Map<Oid, CommitRecord>();
  const done = new Set<Oid>();
  const heap = new GenerationHeap();
  const found = new Set<Oid>();
  let oursOnly = 0; // queued commits marked ours alone
  const read = graph.reader();
  const queue = async (marks: Map<Oid, number>, skipMissing: boolean) => {
    const fresh = [...marks.keys()];
    walk?.commits(fresh.length);
    const records = await read(fresh, { skipMissing });
    fresh.forEach((oid, i) => {
      const r = records[i];
      if (r === undefined) return;
      const f = marks.get(oid)!;
      flags.set(oid, f);
      if (f & THEIRS) found.add(oid);
      else oursOnly++;
      queued.set(oid, r);
      heap.push(oid, r.generation);
    });
  };
  const seeds = new Map<Oid, number>();
  for (const o of ours) seeds.set(o, OURS);
  for (const o of theirs) seeds.set(o, (seeds.get(o) ?? 0) | THEIRS);
  await queue(seeds, true); // a have the store lacks tells nothing
  while (heap.size > 0 && oursOnly > 0) {
    // Every commit of the top generation at once: none is another's ancestor.
    const gen = heap.top();
    const taken: Oid[] = [];
    while (heap.size > 0 && heap.top() === gen) taken.push(heap.pop());
    const marks = new Map<Oid, number>();
    for (const oid of taken) {
      const f = flags.get(oid)!;
      const r = queued.get(oid)!;
      queued.delete(oid);
      done.add(oid);
      if (f === OURS) oursOnly--;
      const mark = f & THEIRS ? (followTheirs(oid) ? THEIRS : 0) : followOurs(oid, r) ? OURS : 0;
      if (mark === 0) continue;
      for (const p of r.parents) {
        const before = flags.get(p);
        if (before === undefined) marks.set(p, (marks.get(p) ?? 0) | mark);
        else if (!done.has(p) && (before | mark) !== before) {
          flags.set(p, before | mark);
          if (before === OURS) oursOnly--;
          found.add(p);
        }
      }
    }
    await queue(marks, false);
  }
  return found;
}

/** True when `ancestor` is reachable from `descendant` (walks only commits of a higher generation than `ancestor`'s). */
export async function isAncestor(store: ObjectStore, ancestor: Oid, descendant: Oid): Promise<boolean> {
  if (ancestor === descendant) return true;
  const graph = commitGraph(store);
  const [target] = await graph.records([ancestor]);
  if (target === undefined) throw new InvalidObjectError(`${ancestor} is not a commit`, { details: { oid: ancestor } });
  let found = false;
  await walkCommitLevels(graph, [descendant], (oid, r) => {
    if (oid === ancestor) found = true;
    return !found && r.generation > target.generation;
  });
  return found;
}

/**
 * git's test for ending a negotiation ("ready"): every wanted commit reaches one of `common`,
 * walking back no further than the lowest generation among them (a commit not above it
 * reaches none of them). Wants that do not peel to a commit need no ancestor. Past `budget`
 * commits walked it answers true, so a huge history cannot make a negotiation round expensive.
 */
export async function wantsReachCommon(
  store: ObjectStore,
  wants: readonly Oid[],
  common: readonly Oid[],
  walk?: WalkBudget,
  budget = 10_000,
): Promise<boolean> {
  if (common.length === 0) return false;
  const graph = commitGraph(store);
  const commonSet = new Set(common);
  let floor = Infinity;
  for (const r of await graph.records(common, { skipMissing: true })) if (r !== undefined) floor = Math.min(floor, r.generation);
  if (floor === Infinity) return false;
  const { commits } = await classifyWants(store, wants);
  let walked = 0;
  for (const want of commits) {
    let found = false;
    await walkCommitLevels(
      graph,
      [want],
      (oid, r) => {
        if (commonSet.has(oid)) found = true;
        walked++;
        return !found && walked <= budget && r.generation > floor;
      },
      undefined,
      walk,
    );
    if (walked > budget) return true;
    if (!found) return false;
  }
  return true;
}

/**
 * Wanted objects by type, each tag chain peeled (revision.ts) and the tags themselves included.
 * Each object once, however many wants reach it (a tag of a tag and the tag itself, say), in
 * breadth-first order: the wants, then what their tags name, and so on.
 */
export async function classifyWants(store: ObjectStore, wants: readonly Oid[]) {
  const commits: Oid[] = [];
  const trees: Oid[] = [];
  const blobs: Oid[] = [];
  const tags: Oid[] = [];
  const unique = [...new Set(wants)];
  const peeled = await peel(store, unique);
  // Every object along each chain, with its depth: ordered by depth, then by want.
  const reached = peeled.flatMap((p, w) => {
    const chain: [Oid, ObjectType | undefined][] = [...p.tags.map((t): [Oid, ObjectType] => [t, 'tag']), [p.oid, p.type]];
    return chain.map(([oid, type], depth) => ({ oid, type, depth, w }));
  });
  reached.sort((a, b) => a.depth - b.depth || a.w - b.w);
  const met = new Set<Oid>();
  for (const { oid, type } of reached) {
    if (met.has(oid)) continue;
    met.add(oid);
    if (type === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    if (type === 'commit') commits.push(oid);
    else if (type === 'tree') trees.push(oid);
    else if (type === 'blob') blobs.push(oid);
    else tags.push(oid);
  }
  return { commits, trees, blobs, tags };
}

/**
 * The new shallow boundary of a deepen request (gitprotocol-v2 "deepen", technical/shallow):
 * commits at `depth` generations from `heads` (a head is generation 1), each commit counted at
 * its smallest generation. `boundary` are the commits at the limit; `inside` every commit above it.
 */
async function shallowByDepth(graph: CommitGraph, heads: readonly Oid[], depth: number, walk?: WalkBudget): Promise<{ boundary: Set<Oid>; inside: Set<Oid> }> {
  const boundary = new Set<Oid>();
  const inside = new Set<Oid>();
  await walkCommitLevels(
    graph,
    heads,
    (oid, _r, level) => {
      (level >= depth ? boundary : inside).add(oid);
      return level < depth;
    },
    undefined,
    walk,
  );
  return { boundary, inside };
}

/**
 * The new shallow boundary of `deepen-since` / `deepen-not`: the commits reachable from the
 * wants through commits no older than `since` and not reachable from the `not` commits; those
 * with a parent left out are the boundary.
 */
async function shallowByRevList(graph: CommitGraph, wants: readonly Oid[], since: number | undefined, not: readonly Oid[], walk?: WalkBudget) {
  const recent = (_: Oid, r: CommitRecord) => since === undefined || r.time >= since;
  const excluded = not.length > 0 ? await paint(graph, wants, not, recent, () => true, walk) : new Set<Oid>();
  const kept = new Map<Oid, CommitRecord>();
  await walkCommitLevels(
    graph,
    wants,
    (oid, r) => {
      if (!recent(oid, r)) return false;
      kept.set(oid, r);
      return true;
    },
    (oid) => excluded.has(oid),
    walk,
  );
  if (kept.size === 0) throw new InvalidArgumentError('no commits selected for shallow requests');
  const boundary = new Set<Oid>();
  const inside = new Set<Oid>();
  for (const [oid, r] of kept) {
    if (r.parents.some((p) => !kept.has(p))) boundary.add(oid);
    else inside.add(oid);
  }
  return { boundary, inside };
}

/** The commits a fetch sends, with their root trees (each once), the shallow boundary changes, and the commits of the client right below them. */
export interface CommitPlan {
  included: Oid[];
  roots: Oid[];
  shallow: Oid[];
  unshallow: Oid[];
  edges: Oid[];
}

/**
 * Decides which commits to send and the shallow boundary changes, the way git's upload-pack
 * does: compute the new boundary (from the wants, or from the client's shallows for
 * deepen-relative); client shallows now above it are unshallowed and their parents wanted;
 * then walk from the wants, not past any boundary (new or the client's), not into what the
 * client has (the haves and their ancestry down to its shallows).
 */
export async function planCommits(store: ObjectStore, input: ObjectPlanInput, wantCommits: Oid[]): Promise<CommitPlan> {
  const graph = commitGraph(store);
  const clientShallows = new Set(input.clientShallows ?? []);
  const haves = input.haves ?? [];
  const deepen = input.depth !== undefined || input.deepenSince !== undefined || (input.deepenNot?.length ?? 0) > 0;

  const shallow: Oid[] = [];
  const unshallow: Oid[] = [];
  const grafts = new Set<Oid>(clientShallows);
  const walkFrom = [...wantCommits];
  if (deepen) {
    let cut: { boundary: Set<Oid>; inside: Set<Oid> };
    if (input.depth !== undefined && input.deepenRelative) {
      const known = [...clientShallows];
      const infos = await store.info(known);
      cut = await shallowByDepth(
        graph,
        known.filter((_, i) => infos[i]?.type === 'commit'),
        input.depth + 1,
        input.walk,
      );
    } else if (input.depth !== undefined && input.depth >= INFINITE_DEPTH) {
      // --unshallow: every shallow commit of the client goes, reached from the wants or not
      // (git leaves branches that are up to date out of the wants).
      const known = [...clientShallows];
      const infos = await store.info(known);
      cut = { boundary: new Set(), inside: new Set(known.filter((_, i) => infos[i]?.type === 'commit')) };
    } else if (input.depth !== undefined) {
      cut = await shallowByDepth(graph, wantCommits, input.depth, input.walk);
    } else {
      cut = await shallowByRevList(graph, wantCommits, input.deepenSince, input.deepenNot ?? [], input.walk);
    }
    for (const o of cut.boundary) {
      grafts.add(o);
      if (!clientShallows.has(o)) shallow.push(o);
    }
    const deepened = [...clientShallows].filter((o) => cut.inside.has(o));
    for (const r of await graph.records(deepened)) if (r !== undefined) walkFrom.push(...r.parents);
    for (const o of clientShallows) if (cut.inside.has(o)) unshallow.push(o);
  }

  // What the client has: its haves and their ancestry, cut at its shallow commits, read only
  // as far down as the commits we may send reach (paint).
  const clientHas =
    haves.length > 0
      ? await paint(
          graph,
          walkFrom,
          haves,
          (oid) => !grafts.has(oid),
          (oid) => !clientShallows.has(oid),
          input.walk,
        )
      : new Set<Oid>();
  const included: Oid[] = [];
  const roots: Oid[] = [];
  const rootSet = new Set<Oid>();
  // Commits that the client has right below what we send (and unshallowed ones): their trees are the client's.
  const edges = new Set<Oid>(unshallow);
  await walkCommitLevels(
    graph,
    walkFrom,
    (oid, r) => {
      included.push(oid);
      // Commits may share a root tree (an empty commit, a revert): each goes in the pack once.
      if (!rootSet.has(r.tree)) rootSet.add(r.tree), roots.push(r.tree);
      if (grafts.has(oid)) return false;
      for (const p of r.parents) if (clientHas.has(p)) edges.add(p);
      return true;
    },
    (oid) => clientHas.has(oid),
    input.walk,
    // Nothing the client has and no depth: the walk goes down to the roots (a full clone).
    haves.length === 0 && grafts.size === 0 ? SCAN_AFTER_WHOLE : undefined,
  );
  return { included, roots, shallow, unshallow, edges: [...edges] };
}
