/**
 * fsck-grade checks of objects, as `git fsck --strict` and `receive.fsckObjects` make them
 * (git 2.39 fsck.c), with git's message ids and levels (fsck-ids.ts). Pure functions over
 * bytes; the caller does the I/O:
 * - `checkObject(type, body)` checks one object's content. A tree's report also lists the
 *   blobs it names `.gitmodules` / `.gitattributes`: check those with `checkSpecialBlob`
 *   (they may sit in the same push, in the store, or be missing).
 * - `checkNamedBlobs(treeReport, lookup)` does so when the blobs are in hand (API commits).
 * - `FsckSession` does that bookkeeping across the objects of one push, as git's index-pack:
 *   named blobs arriving after their tree are checked then; `pending()` lists the rest.
 * - `checkReferenceTypes` (fsck-links.ts) checks that references point at the right types.
 * Rules live in fsck-tree.ts, fsck-commit.ts, fsck-gitmodules.ts and fsck-names.ts.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ObjectType, Oid } from './oid.js';
import { type FsckConfig, type FsckOptions, type FsckReport, CLEAN_REPORT, Reporter, fsckConfig } from './fsck-ids.js';
import { TreeChecker, checkTree } from './fsck-tree.js';
import { type EntryKind, scanTree } from './tree.js';
import { EntryStarts, ScannedTrees, TreeSkips } from './tree-skips.js';
import { checkCommit, checkTag, commitParserRefusal, tagParserRefusal } from './fsck-commit.js';
import { checkGitattributes, checkGitmodules } from './fsck-gitmodules.js';

export { type FsckId, type FsckLevel, type FsckOptions, type FsckProblem, type FsckReport, FSCK_IDS, FsckConfig, fsckConfig } from './fsck-ids.js';
export { type ObjectReference, type ReferenceProblem, type ReferenceRole, checkReferenceTypes, forEachReference, listReferences } from './fsck-links.js';

/** Checks the content of one object. Blobs have nothing to check unless named (see checkSpecialBlob). */
export function checkObject(type: ObjectType, body: Uint8Array, options?: FsckOptions | FsckConfig): FsckReport {
  const config = fsckConfig(options);
  if (type === 'blob') return CLEAN_REPORT;
  const r = new Reporter(config);
  if (type === 'tree') checkTree(body, r, config.strict);
  else if (type === 'commit') {
    checkCommit(body, r);
    const refusal = commitParserRefusal(body);
    if (refusal !== null) r.refuse(refusal, 'git cannot read this commit');
  } else if (type === 'tag') {
    checkTag(body, r);
    const refusal = tagParserRefusal(body);
    if (refusal !== null) r.refuse(refusal, 'git cannot read this tag');
  } else r.report('unknownType', `unknown object type ${JSON.stringify(String(type))}`);
  return r.done();
}

/** Bytes of entry starts FsckSession keeps for the clean trees it scanned (4 per entry): 2 million entries. */
const SCANNED_TREE_BYTES = 8 * 1024 * 1024;

/** The two kinds of blobs a tree's name makes special. */
export type SpecialBlobKind = 'gitmodules' | 'gitattributes';

/** An object as found by its id: its type and body (null: too large to load). */
export interface FoundObject {
  type: ObjectType;
  body: Uint8Array | null;
}

/**
 * Checks an object some tree names `.gitmodules` or `.gitattributes`: `found` undefined means
 * it does not exist (`gitmodulesMissing`), a non-blob is `gitmodulesBlob`, a null body is
 * `gitmodulesLarge` (and the same for gitattributes).
 */
export function checkSpecialBlob(kind: SpecialBlobKind, found: FoundObject | undefined, options?: FsckOptions | FsckConfig): FsckReport {
  const r = new Reporter(fsckConfig(options));
  const modules = kind === 'gitmodules';
  if (found === undefined) r.report(modules ? 'gitmodulesMissing' : 'gitattributesMissing', `.${kind} blob is missing`);
  else if (found.type !== 'blob') r.report(modules ? 'gitmodulesBlob' : 'gitattributesBlob', `.${kind} is a ${found.type}, not a blob`);
  else if (modules) checkGitmodules(found.body, r);
  else checkGitattributes(found.body, r);
  return r.done();
}

/**
 * Checks the blobs a tree's report names, looked up by the caller (`lookup` answers undefined
 * for a missing object): for a tree whose named blobs are in hand, such as one an API commit
 * builds. Returns the reports that have something to say, by blob id.
 */
export function checkNamedBlobs(tree: FsckReport, lookup: (oid: Oid) => FoundObject | undefined, options?: FsckOptions | FsckConfig): Map<Oid, FsckReport> {
  const config = fsckConfig(options);
  const out = new Map<Oid, FsckReport>();
  for (const kind of ['gitmodules', 'gitattributes'] as const) {
    for (const oid of tree[kind]) {
      const r = checkSpecialBlob(kind, lookup(oid), config);
      if (r === CLEAN_REPORT) continue;
      const before = out.get(oid);
      out.set(oid, before === undefined ? r : { ...before, ok: before.ok && r.ok, problems: [...before.problems, ...r.problems] });
    }
  }
  return out;
}

/** A named blob still to check: read it (pack or store) and pass it to `checkPending`. */
export interface PendingBlob {
  oid: Oid;
  kind: SpecialBlobKind;
}

/**
 * Checks the objects of one push in any order, remembering which blobs trees name
 * `.gitmodules` / `.gitattributes` (git's index-pack does the same): such a blob is checked
 * when it arrives after its tree; `pending()` lists those that came before their tree or are
 * not in the push at all (already stored, or missing).
 */
export class FsckSession {
  private readonly config: FsckConfig;
  // Named blobs by kind: true once checked.
  private readonly named: Record<SpecialBlobKind, Map<Oid, boolean>> = { gitmodules: new Map(), gitattributes: new Map() };
  private readonly trees = new TreeChecker();
  // Clean trees scanned with their ids (scanTree's `tree`), for the deltas made on them.
  private readonly scanned = new ScannedTrees(SCANNED_TREE_BYTES);
  private readonly starts = new EntryStarts();
  private readonly skips = new TreeSkips();
  /** Tree entries `scanTree` passed over as their bases' (object/tree-skips.ts). */
  skippedEntries = 0;

  /** Validates the options once (InvalidArgumentError). */
  constructor(options?: FsckOptions | FsckConfig) {
    this.config = fsckConfig(options);
  }

  /**
   * Checks one object; a blob already named by a tree is checked as such now. A blob's body
   * may be null when it is too large to hold (a named one is then refused as too large).
   */
  check(oid: Oid, type: ObjectType, body: Uint8Array | null): FsckReport {
    if (type !== 'blob') {
      if (body === null) throw new InvalidArgumentError(`the body of ${type} ${oid} is needed to check it`);
      return this.remember(checkObject(type, body, this.config));
    }
    const m = this.named.gitmodules.get(oid) === false ? this.checkPending(oid, 'gitmodules', { type, body }) : CLEAN_REPORT;
    const a = this.named.gitattributes.get(oid) === false ? this.checkPending(oid, 'gitattributes', { type, body }) : CLEAN_REPORT;
    if (a === CLEAN_REPORT) return m;
    if (m === CLEAN_REPORT) return a;
    return { ok: m.ok && a.ok, problems: [...m.problems, ...a.problems], gitmodules: [], gitattributes: [] };
  }

  /**
   * `check` of a tree in one pass with the caller's own: object/tree.ts `scanTree` over `body`
   * (its parse and rules: InvalidObjectError at the first bad entry; `visit` per entry as it
   * goes) with git's checks of each entry beside it (fsck-tree.ts
   * `TreeChecker`). A body scanTree accepts is one git's tree walker reads whole, so the report
   * is the one `check` gives.
   *
   * With `tree` (a number of the caller's for it, unique in the session: the pack reader's
   * `seq`; for a delta its base's number and `deltaCopies`), a tree found clean is remembered,
   * and the entries of a delta that are, at an entry boundary, the entries of a base remembered
   * so are passed over: not checked, not visited (object/tree-skips.ts). The report is the same;
   * `visit` then sees only the entries that are not the base's.
   */
  scanTree(
    body: Uint8Array,
    visit: (oidAt: number, kind: EntryKind, nameStart: number, nameEnd: number) => void,
    tree?: { key: number; base?: number; copies?: Int32Array },
  ): FsckReport {
    const r = new Reporter(this.config);
    const c = this.trees;
    const starts = this.starts;
    starts.reset();
    c.begin(body, r, this.config.strict);
    const base = tree?.base === undefined || tree.copies === undefined ? undefined : this.scanned.get(tree.base);
    const skips = base === undefined ? undefined : this.skips.begin(this.scanned, base, tree!.copies!, c, starts);
    scanTree(
      body,
      (oidAt, kind, s, e, start) => {
        const named = c.named;
        c.names(start, s, e);
        c.order(s, e);
        starts.push(start);
        if (c.named !== named) starts.markNamed();
        visit(oidAt, kind, s, e);
      },
      skips,
    );
    const remembered = c.remembered;
    c.end();
    if (skips !== undefined) this.skippedEntries += skips.skipped;
    const report = this.remember(r.done());
    if (tree !== undefined && report.ok && report.problems.length === 0 && !remembered) this.scanned.add(tree.key, starts.starts, starts.named, body.length);
    return report;
  }

  /** Notes the blobs a report names `.gitmodules` / `.gitattributes`, to check them when they come. */
  private remember(report: FsckReport): FsckReport {
    for (const o of report.gitmodules) if (!this.named.gitmodules.has(o)) this.named.gitmodules.set(o, false);
    for (const o of report.gitattributes) if (!this.named.gitattributes.has(o)) this.named.gitattributes.set(o, false);
    return report;
  }

  /** Named blobs not checked yet. */
  pending(): PendingBlob[] {
    const out: PendingBlob[] = [];
    for (const kind of ['gitmodules', 'gitattributes'] as const) {
      for (const [oid, done] of this.named[kind]) if (!done) out.push({ oid, kind });
    }
    return out;
  }

  /** Checks a named blob (once per kind); `found` undefined when it does not exist. */
  checkPending(oid: Oid, kind: SpecialBlobKind, found: FoundObject | undefined): FsckReport {
    const map = this.named[kind];
    if (map.get(oid) !== false) return CLEAN_REPORT;
    map.set(oid, true);
    return checkSpecialBlob(kind, found, this.config);
  }
}

/** The first error of a report as one line (`hasDotgit: ...`), or null when it passes. */
export function describeFsckFailure(oid: Oid, type: ObjectType, report: FsckReport): { message: string; details: Record<string, unknown> } | null {
  if (report.ok) return null;
  const first = report.problems.find((p) => p.severity === 'error')!;
  return {
    message: `${type} ${oid}: ${first.id}: ${first.message}`,
    details: { oid, type, id: first.id, problems: report.problems.map((p) => ({ id: p.id, severity: p.severity, message: p.message })) },
  };
}
