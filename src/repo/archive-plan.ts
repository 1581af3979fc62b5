/**
 * What an archive holds, decided before its first byte: the entries in git archive's order
 * with `.gitattributes` of the archived tree applied (archive/attributes.ts: `export-ignore`
 * drops a file, or a directory with everything below it; `export-subst` files are expanded now,
 * so a placeholder level-git refuses is an error before the stream starts), and every object
 * the stream will read, pinned against the sweep. The walk runs counted as a write (the sweep's
 * last phase waits for it), so nothing it saw can be collected between the walk and the pin;
 * the pin then holds until the stream ends or is closed.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Commit } from '../object/commit.js';
import type { Oid } from '../object/oid.js';
import { isGitlinkMode, isTreeMode, type TreeEntry } from '../object/tree.js';
import { type AttrFile, attributesOf, parseAttributes } from '../archive/attributes.js';
import { formatStrings, formatSubst, type SubstContext, unsupportedPlaceholder } from '../archive/format-subst.js';
import type { ArchiveEntry } from '../archive/entry.js';
import type { RepoContext } from './context.js';

/** An entry to write; files without `content` are read while streaming. */
export interface PlannedEntry extends ArchiveEntry {
  oid: Oid;
  /** The file's bytes were produced by export-subst (not the blob's). */
  substituted?: boolean;
}

/** The planned archive: entries, and whether any file was expanded by export-subst. */
export interface ArchivePlan {
  entries: PlannedEntry[];
  substituted: boolean;
  /** Releases the pin of the archive's objects. */
  release: () => void;
}

const ATTRS = ['export-ignore', 'export-subst'];
const GITATTRIBUTES = '.gitattributes';
/** Largest `.gitattributes` git reads (bigger ones are ignored with a warning). */
const MAX_ATTR_FILE = 100 * 1024 * 1024;
const dec = new TextDecoder();

class Walker {
  readonly entries: PlannedEntry[] = [];
  readonly objects: Oid[] = [];
  readonly subst: PlannedEntry[] = [];
  /** Whether any `.gitattributes` was met: without one, no attribute is looked up. */
  #any = false;

  constructor(
    readonly ctx: RepoContext,
    readonly prefix: string,
  ) {}

  /** The tree's entries, and its `.gitattributes` (parsed) pushed on `stack` when it has one. */
  async open(tree: Oid, dir: string, stack: AttrFile[]): Promise<{ entries: TreeEntry[]; stack: AttrFile[] }> {
    this.objects.push(tree);
    const entries = await this.ctx.objects.tree(tree);
    const attr = entries.find((e) => e.name === GITATTRIBUTES && !isTreeMode(e.mode) && !isGitlinkMode(e.mode));
    if (attr === undefined) return { entries, stack };
    const body = (await this.ctx.objects.read(attr.oid)).body;
    if (body.length >= MAX_ATTR_FILE) return { entries, stack };
    this.#any = true;
    return { entries, stack: [...stack, parseAttributes(dec.decode(body), dir, dir === '')] };
  }

  /** export-ignore and export-subst of a path (relative to the tree, no prefix). */
  attrs(stack: readonly AttrFile[], path: string, isDir: boolean): { ignore: boolean; subst: boolean } {
    if (!this.#any || stack.length === 0) return { ignore: false, subst: false };
    const a = attributesOf(stack, path, isDir, ATTRS);
    return { ignore: a.get('export-ignore') === true, subst: a.get('export-subst') === true };
  }

  /** One non-tree entry (a file, symlink or submodule) unless export-ignored. */
  leaf(e: TreeEntry, rel: string, stack: readonly AttrFile[]): void {
    const gitlink = isGitlinkMode(e.mode);
    const { ignore, subst } = this.attrs(stack, rel, gitlink);
    if (ignore) return;
    const mode = Number.parseInt(e.mode, 8);
    const path = this.prefix + rel;
    if (gitlink) {
      this.entries.push({ path: `${path}/`, kind: 'dir', mode, oid: e.oid });
      return;
    }
    const entry: PlannedEntry = { path, kind: e.mode === '120000' ? 'symlink' : 'file', mode, oid: e.oid };
    this.entries.push(entry);
    this.objects.push(e.oid);
    if (subst && entry.kind === 'file') this.subst.push(entry);
  }

  /** Everything below a directory, in git's order (each directory before its contents). */
  async tree(tree: Oid, dir: string, stack: AttrFile[]): Promise<void> {
    const opened = await this.open(tree, dir, stack);
    for (const e of opened.entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (!isTreeMode(e.mode)) {
        this.leaf(e, rel, opened.stack);
        continue;
      }
      if (this.attrs(opened.stack, rel, true).ignore) continue;
      this.entries.push({ path: `${this.prefix}${rel}/`, kind: 'dir', mode: 0o40000, oid: e.oid });
      await this.tree(e.oid, rel, opened.stack);
    }
  }

  /** A pathspec: the directories leading to `parts`, then what is at it (each checked for export-ignore as git does). */
  async path(root: Oid, parts: readonly string[]): Promise<void> {
    let tree = root;
    let dir = '';
    let stack: AttrFile[] = [];
    for (const name of parts) {
      const opened = await this.open(tree, dir, stack);
      stack = opened.stack;
      const e = opened.entries.find((x) => x.name === name)!;
      const rel = dir === '' ? name : `${dir}/${name}`;
      if (!isTreeMode(e.mode)) return this.leaf(e, rel, stack);
      if (this.attrs(stack, rel, true).ignore) return;
      this.entries.push({ path: `${this.prefix}${rel}/`, kind: 'dir', mode: 0o40000, oid: e.oid });
      tree = e.oid;
      dir = rel;
    }
    await this.tree(tree, dir, stack);
  }
}

/** The shortest unique abbreviation of at least 7 hex digits (git archive's default `core.abbrev`). */
async function abbreviations(ctx: RepoContext, oids: readonly Oid[]): Promise<Map<Oid, string>> {
  const out = new Map<Oid, string>();
  for (const oid of new Set(oids)) {
    let len = 7;
    for (; len < 40; len++) {
      const hits = await ctx.objects.idsWithPrefix(hexPrefix(oid.slice(0, len)), 2);
      if (hits.filter((h) => h.startsWith(oid.slice(0, len))).length <= 1) break;
    }
    out.set(oid, oid.slice(0, len));
  }
  return out;
}

/** The bytes of an even-length hex prefix (an odd digit is dropped; the caller filters the hits). */
function hexPrefix(hex: string): Uint8Array {
  const n = Math.floor(hex.length / 2);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Expands the export-subst files (refusing unsupported placeholders, before any byte is sent). */
async function substitute(ctx: RepoContext, files: readonly PlannedEntry[], commitOid: Oid, commit: Commit): Promise<void> {
  if (files.length === 0) return;
  const raws = await ctx.objects.readMany(files.map((f) => f.oid));
  const bodies = files.map((f, i) => {
    const r = raws[i];
    if (r === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${f.oid} not found`, { details: { oid: f.oid } });
    return r.body;
  });
  for (const [i, f] of files.entries()) {
    for (const format of formatStrings(bodies[i]!)) {
      const bad = unsupportedPlaceholder(format);
      if (bad !== undefined) {
        throw new InvalidArgumentError(`${f.path} (export-subst) uses the placeholder ${bad}, which level-git does not expand; git archive would`, {
          details: { path: f.path, placeholder: bad },
        });
      }
    }
  }
  const abbrev = await abbreviations(ctx, [commitOid, commit.tree, ...commit.parents]);
  const sctx: SubstContext = { oid: commitOid, commit, abbrev: (o) => abbrev.get(o as Oid) ?? o.slice(0, 7) };
  files.forEach((f, i) => {
    f.content = formatSubst(bodies[i]!, sctx);
    f.substituted = true;
  });
}

/** Walks and pins (see the module comment); `parts` is the pathspec, `prefix` goes before every path. */
export async function planArchive(ctx: RepoContext, commitOid: Oid, commit: Commit, parts: readonly string[], prefix: string): Promise<ArchivePlan> {
  return ctx.guard.write(async () => {
    const w = new Walker(ctx, prefix);
    if (parts.length === 0) await w.tree(commit.tree, '', []);
    else await w.path(commit.tree, parts);
    await substitute(ctx, w.subst, commitOid, commit);
    const release = await ctx.guard.pin([commitOid, ...w.objects]);
    return { entries: w.entries, substituted: w.subst.length > 0, release };
  });
}
