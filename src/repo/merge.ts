/**
 * Merge, squash, fast-forward, revert and cherry-pick: each reads the tips, merges trees
 * (merge-trees.ts: nothing is written when a path conflicts, `ERR_MERGE_CONFLICT` lists them),
 * writes the commit, and moves the branch through the ref-update pipeline (ref-updates.ts,
 * source 'merge' or 'revert') as a compare-and-swap against the tip it read (or the caller's
 * expectation), so a concurrent move is `ERR_REF_CONFLICT` and never overwritten. `compare` is
 * the read side: merge base, ahead/behind, head-only commits, and the diff from the base.
 */
import { InvalidArgumentError, MergeConflictError, NotFastForwardError, NotFoundError, RefConflictError } from '../errors.js';
import { type Oid, parseOid } from '../object/oid.js';
import { encodeCommit, type Commit, type Identity } from '../object/commit.js';
import { branchRef } from '../refs/ref-name.js';
import type { View } from '../refs/space.js';
import type { RefUpdateSource, RepoCore } from './context.js';
import { toIdentity, type PersonInput } from './commit.js';
import { diffTrees, type DiffFile, type DiffOptions } from './diff.js';
import { paint } from './merge-base.js';
import { mergeBaseTree } from './merge-recursive.js';
import { mergeTrees, type MergeConflict } from './merge-trees.js';
import { resolveCommit, type LogEntry } from './read.js';
import { transact } from './ref-updates.js';

export type { MergeConflict, ConflictKind } from './merge-trees.js';

/** Options of `Repository.merge`. */
export interface MergeOptions {
  /** The branch that moves (regular space). */
  base: string;
  /** What is merged: a branch (read through `headView`, default the ephemeral view: ephemeral over regular), a ref or a sha. */
  head: string;
  /** 'merge' (a commit with both parents, default), 'squash' (one parent), 'fast-forward' (no commit). */
  strategy?: 'merge' | 'squash' | 'fast-forward';
  message?: string;
  /** Author (and committer) of the new commit; default `level-git <level-git@localhost>`. */
  author?: PersonInput;
  committer?: PersonInput;
  /** Compare-and-swap: the base branch must be at this sha. */
  expectedBaseSha?: string;
  /** Answer whether it merges, and the tree, without writing anything. */
  dryRun?: boolean;
  headView?: View;
  /** git's merge.directoryRenames: 'conflict' (default: a path moved by a directory rename is a conflict), true (moved cleanly), false (off). */
  directoryRenames?: boolean | 'conflict';
}

/** A merge that happened (`upToDate`: the head was already in the base; nothing moved). */
export interface MergeResult {
  sha: Oid;
  strategy: 'merge' | 'squash' | 'fast-forward';
  fastForward: boolean;
  tree: Oid;
  upToDate?: true;
}

/** A dry run's answer. */
export interface MergeCheck {
  mergeable: boolean;
  conflicts: MergeConflict[];
  tree?: Oid;
}

/** Options of `Repository.revert` and `Repository.cherryPick`. */
export interface RevertOptions {
  branch: string;
  commit: string;
  message?: string;
  author?: PersonInput;
  committer?: PersonInput;
  /** Compare-and-swap: the branch must be at this sha. */
  expectedHeadSha?: string;
}

/** The answer of `Repository.compare`. */
export interface CompareResult {
  mergeBase: Oid | null;
  /** Commits in head and not in base. */
  ahead: number;
  /** Commits in base and not in head. */
  behind: number;
  /** Head-only commits, newest first, at most `limit`. */
  commits: LogEntry[];
  files: DiffFile[];
  truncated?: true;
  patch?: Uint8Array;
}

const DEFAULT_IDENTITY: PersonInput = { name: 'level-git', email: 'level-git@localhost' };
const STRATEGIES = new Set(['merge', 'squash', 'fast-forward']);

/** The branch tip in the regular space, or 404. */
async function branchTip(core: RepoCore, name: string): Promise<{ ref: ReturnType<typeof branchRef>; tip: Oid }> {
  const ref = branchRef(name);
  const v = await core.ctx.refs.get(ref, 'regular');
  if (v === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `branch "${name}" not found`, { details: { ref } });
  return { ref, tip: v.oid };
}

function checkExpected(ref: string, tip: Oid, expected: string | undefined, what: string): Oid {
  if (expected === undefined) return tip;
  const e = parseOid(expected, what);
  if (e !== tip) throw new RefConflictError(`${ref} is at ${tip}, not ${e}`, { details: { ref, expected: e, actual: tip } });
  return e;
}

function people(author: PersonInput | undefined, committer: PersonInput | undefined): { author: Identity; committer: Identity } {
  const a = toIdentity(author ?? DEFAULT_IDENTITY, 'author');
  return { author: a, committer: committer ? toIdentity(committer, 'committer') : a };
}

const withNewline = (m: string) => (m === '' || m.endsWith('\n') ? m : m + '\n');

/** Writes a commit and moves `ref` from `old` to it (source `source`), inside the sweep guard. */
async function commitAndMove(
  core: RepoCore,
  ref: ReturnType<typeof branchRef>,
  old: Oid,
  c: Commit,
  writer: ReturnType<RepoCore['ctx']['objects']['writer']>,
  source: RefUpdateSource,
): Promise<Oid> {
  const sha = writer.add('commit', encodeCommit(c));
  await writer.flush();
  await transact(core, [{ ref, oldOid: old, newOid: sha, space: 'regular' }], source);
  return sha;
}

/** Merges `head` into the branch `base` (see MergeOptions). */
export async function merge(core: RepoCore, options: MergeOptions): Promise<MergeResult | MergeCheck> {
  const { ctx } = core;
  ctx.assertLive();
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('merge options must be an object');
  const strategy = options.strategy ?? 'merge';
  if (!STRATEGIES.has(strategy)) throw new InvalidArgumentError('strategy must be "merge", "squash" or "fast-forward"');
  if (typeof options.head !== 'string') throw new InvalidArgumentError('head must be a string');
  const { ref, tip } = await branchTip(core, options.base);
  const old = checkExpected(ref, tip, options.expectedBaseSha, 'expectedBaseSha');
  const head = await resolveCommit(ctx, options.head, options.headView ?? 'ephemeral');
  const who = options.dryRun ? undefined : people(options.author, options.committer);
  const baseCommit = await ctx.objects.commit(old);
  // One walk answers everything (exact whatever the commit dates say): up to date, fast-forward, merge base.
  const { bases } = head === old ? { bases: [old] } : await paint(ctx.objects, old, head);
  if (head === old || bases.includes(head)) {
    return options.dryRun
      ? { mergeable: true, conflicts: [], tree: baseCommit.tree }
      : { sha: old, strategy, fastForward: false, tree: baseCommit.tree, upToDate: true };
  }
  const headCommit = await ctx.objects.commit(head);
  const canFastForward = bases.includes(old);
  if (strategy === 'fast-forward') {
    if (!canFastForward) throw new NotFastForwardError(`${ref} at ${old} is not an ancestor of ${head}`, { details: { ref, base: old, head } });
    if (options.dryRun) return { mergeable: true, conflicts: [], tree: headCommit.tree };
    await ctx.guard.beginWrite();
    try {
      await transact(core, [{ ref, oldOid: old, newOid: head, space: 'regular' }], 'merge');
    } finally {
      ctx.guard.endWrite();
    }
    return { sha: head, strategy, fastForward: true, tree: headCommit.tree };
  }
  if (bases.length === 0) throw new InvalidArgumentError(`${options.base} and ${options.head} have no common history`, { details: { ref } });
  await ctx.guard.beginWrite();
  try {
    const writer = ctx.objects.writer();
    // Several merge bases (criss-cross): merged into a virtual one first, as git does.
    const virtual = await mergeBaseTree(ctx, bases);
    const merged = await mergeTrees(virtual.ctx, writer, virtual.tree, baseCommit.tree, headCommit.tree, { directoryRenames: options.directoryRenames });
    if (options.dryRun) return { mergeable: merged.tree !== undefined, conflicts: merged.conflicts, ...(merged.tree ? { tree: merged.tree } : {}) };
    if (merged.tree === undefined) throw conflictError(`merging ${options.head} into ${options.base}`, merged.conflicts);
    const into = ref === 'refs/heads/main' || ref === 'refs/heads/master' ? '' : ` into ${options.base}`;
    const message = withNewline(options.message ?? (strategy === 'squash' ? `Squashed commit of ${options.head}` : `Merge branch '${options.head}'${into}`));
    const parents = strategy === 'squash' ? [old] : [old, head];
    const sha = await commitAndMove(core, ref, old, { tree: merged.tree, parents, ...who!, message }, writer, 'merge');
    return { sha, strategy, fastForward: false, tree: merged.tree };
  } finally {
    ctx.guard.endWrite();
  }
}

function conflictError(what: string, conflicts: MergeConflict[]): MergeConflictError {
  const list = conflicts.map((c) => `${c.path} (${c.kind})`).join(', ');
  return new MergeConflictError(`conflicts ${what}: ${list}`, { details: { conflicts } });
}

/** A new commit on `branch` undoing `commit` (against its first parent), or re-applying it (`pick`). */
export async function revertOrPick(core: RepoCore, options: RevertOptions, pick: boolean): Promise<{ sha: Oid; tree: Oid }> {
  const { ctx } = core;
  ctx.assertLive();
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  if (typeof options.commit !== 'string') throw new InvalidArgumentError('commit must be a string');
  const { ref, tip } = await branchTip(core, options.branch);
  const old = checkExpected(ref, tip, options.expectedHeadSha, 'expectedHeadSha');
  const target = await resolveCommit(ctx, options.commit, 'regular');
  const c = await ctx.objects.commit(target);
  const who = people(options.author ?? (pick ? c.author : undefined), options.committer);
  if (pick && options.author === undefined) who.author = c.author;
  const ours = (await ctx.objects.commit(old)).tree;
  await ctx.guard.beginWrite();
  try {
    const writer = ctx.objects.writer();
    const parentTree = c.parents.length > 0 ? (await ctx.objects.commit(c.parents[0]!)).tree : writer.add('tree', new Uint8Array(0));
    const [base, theirs] = pick ? [parentTree, c.tree] : [c.tree, parentTree];
    const merged = await mergeTrees(ctx, writer, base, ours, theirs);
    if (merged.tree === undefined) throw conflictError(`${pick ? 'cherry-picking' : 'reverting'} ${target} on ${options.branch}`, merged.conflicts);
    const subject = c.message.split('\n', 1)[0] ?? '';
    const message = withNewline(options.message ?? (pick ? c.message : `Revert "${subject}"\n\nThis reverts commit ${target}.`));
    const sha = await commitAndMove(core, ref, old, { tree: merged.tree, parents: [old], ...who, message }, writer, pick ? 'merge' : 'revert');
    return { sha, tree: merged.tree };
  } finally {
    ctx.guard.endWrite();
  }
}

/** Like GitHub's compare: merge base, ahead/behind, head-only commits (newest first, at most `limit`, default 250) and the diff from the merge base to head. */
export async function compare(core: RepoCore, base: string, head: string, options: DiffOptions & { limit?: number } = {}): Promise<CompareResult> {
  const { ctx } = core;
  ctx.assertLive();
  const limit = options.limit ?? 250;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError('limit must be a non-negative integer');
  const view = options.view ?? 'regular';
  const [b, h] = await Promise.all([resolveCommit(ctx, base, view), resolveCommit(ctx, head, view)]);
  const painted = await paint(ctx.objects, b, h);
  const mergeBase = painted.bases[0] ?? null;
  const from = mergeBase === null ? undefined : (await ctx.objects.commit(mergeBase)).tree;
  const to = (await ctx.objects.commit(h)).tree;
  const d = await diffTrees(ctx, from, to, options);
  const commits = painted.headOnly
    .slice(0, limit)
    .map(({ oid, commit: c }) => ({ sha: oid, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree }));
  return { mergeBase, ahead: painted.headOnly.length, behind: painted.baseOnly.length, commits, ...d };
}
