/**
 * The seam between the wire protocol and the repository: protocol/ parses and writes Git's
 * messages and asks a `GitBackend` for refs, negotiation facts, packs and ref updates.
 * repo/ implements it; protocol/ never touches storage, names, tokens or namespaces.
 */
import type { Oid } from '../object/oid.js';
import type { WalkBudget } from './walk-budget.js';

/** One advertised ref. */
export interface AdvertisedRef {
  /** Full name, e.g. `refs/heads/main`, or `HEAD`. */
  name: string;
  /** Current value; absent only for an unborn `HEAD`. */
  oid?: Oid;
  /** For annotated tags: the object the tag finally points at (`^{}`). */
  peeled?: Oid;
  /** For symbolic refs (`HEAD`): the full name it points at. */
  symref?: string;
}

/** Partial-clone object filter (`filter` capability). */
export type ObjectFilter = { kind: 'blob:none' } | { kind: 'blob:limit'; limit: number } | { kind: 'tree'; depth: number };

/** Everything a fetch request asks for, already parsed and validated. */
export interface FetchRequest {
  wants: Oid[];
  haves: Oid[];
  /** The request's walk budget (walk-budget.ts): the plan's walks charge it. */
  walk?: WalkBudget;
  /** Commits the client already has as shallow boundaries (`shallow` lines). */
  clientShallows: Oid[];
  /** `deepen <n>`: at most n commits deep from each want (or, with deepenRelative, from the client's boundary). */
  depth?: number;
  deepenRelative?: boolean;
  /** `deepen-since <seconds>`. */
  deepenSince?: number;
  /** `deepen-not <ref>` values as the client sent them. */
  deepenNot?: string[];
  filter?: ObjectFilter;
  /** `include-tag`: also send annotated tags that point at sent objects. */
  includeTag: boolean;
  /** `ofs-delta` was asked for (packs may use offset deltas). */
  ofsDelta: boolean;
  /** `thin-pack` was asked for (deltas may use bases the client has). */
  thinPack: boolean;
}

/** The answer to a fetch: shallow updates and a streaming pack. */
export interface FetchResponse {
  /** Commits that are now shallow boundaries for the client. */
  shallow: Oid[];
  /** Client shallows that are no longer boundaries. */
  unshallow: Oid[];
  /** One complete pack, streamed. */
  pack: AsyncIterable<Uint8Array>;
}

/** One `<old> <new> <ref>` command of a push. */
export interface RefCommand {
  ref: string;
  oldOid: Oid;
  newOid: Oid;
}

/** What a ref policy is asked about one update. */
export interface RefUpdateInfo extends RefCommand {
  /** Not a fast-forward (and not a create or delete). */
  force: boolean;
  delete: boolean;
  create: boolean;
}

/** Options of a push. */
export interface ReceiveOptions {
  /** `atomic`: all updates or none. */
  atomic: boolean;
  /** `push-option` values. */
  pushOptions: string[];
  /** Returns a reason to refuse one update (printed by git after `ng`), or null to allow it. */
  policy?: (update: RefUpdateInfo) => string | null;
}

/** The outcome of a push. */
export interface ReceiveResult {
  /** Set when the pack could not be stored: `unpack <error>`; then every command fails. */
  unpackError?: string;
  results: { ref: string; ok: boolean; reason?: string }[];
  /** Findings of object checks downgraded to warnings; sent as `warning:` lines (git prints `remote: warning: ...`). */
  warnings?: string[];
}

/** A repository as the protocol sees it (one namespace view of it). */
export interface GitBackend {
  /** Visible refs, `HEAD` first when it exists (with `symref`), filtered by full-name prefixes when given. */
  listRefs(prefixes?: readonly string[]): Promise<AdvertisedRef[]>;
  /** The subset of `oids` that exist in the repository and are reachable from visible refs. */
  hasObjects(oids: readonly Oid[]): Promise<Set<Oid>>;
  /** Checks that every want may be served (reachable from a visible ref); returns the ones that may not. */
  invalidWants(wants: readonly Oid[], walk?: WalkBudget): Promise<Oid[]>;
  /** Builds the response to a fetch. Throws a LevelGitError for requests it cannot satisfy. */
  fetch(request: FetchRequest): Promise<FetchResponse>;
  /**
   * Optional: only the shallow/unshallow lists a fetch would answer, without building a pack.
   * Protocol v0/v1 asks for them alone in the first round of a deepening fetch; without this
   * member the protocol layer calls `fetch` and closes the pack stream after its first chunk.
   */
  shallowInfo?(request: FetchRequest): Promise<Pick<FetchResponse, 'shallow' | 'unshallow'>>;
  /**
   * Optional: whether the negotiation may end with these common commits, that is every want
   * reaches one of them (git's "ok to give up"). Without it, one common commit is enough.
   */
  readyToSend?(wants: readonly Oid[], common: readonly Oid[], walk?: WalkBudget): Promise<boolean>;
  /** Stores the pack (if any), checks connectivity, then applies the commands. Never throws for bad packs: reports them. */
  receive(commands: readonly RefCommand[], pack: AsyncIterable<Uint8Array> | null, options: ReceiveOptions): Promise<ReceiveResult>;
}
