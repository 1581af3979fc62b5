/**
 * `GitBackend` (protocol/backend.ts) over a Repository, for one space: the regular refs, or the
 * ephemeral space (read through the ephemeral view, ephemeral refs over regular ones; writes
 * land in the ephemeral space only). It reaches the repository's internals (internals.ts).
 */
import { LevelGitError, ProtocolError, RefConflictError, MissingObjectsError } from '../errors.js';
import { type Oid, ZERO_OID, isOid } from '../object/oid.js';
import { isRefName } from '../refs/ref-name.js';
import type { RefUpdate } from '../refs/ref-store.js';
import type { AdvertisedRef, FetchRequest, FetchResponse, GitBackend, ReceiveOptions, ReceiveResult, RefCommand } from '../protocol/backend.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import type { Repository } from './repository.js';
import type { Space } from '../refs/space.js';
import { internalsOf, type RepoInternals } from './internals.js';
import { ttlFromPushOptions } from './push-options.js';
import { describeRefUpdate } from './ref-update-kind.js';
import { planShallow, reachableObjects, wantsReachCommon, type ObjectPlanInput } from './walk.js';

/** Options of a backend. */
export interface BackendOptions {
  /** The space pushes write to and whose view fetches read (default regular). */
  space?: Space;
  /** Largest number of objects a reachability check of a non-tip want may visit. */
  reachabilityBudget?: number;
}

/** A GitBackend over one repository space. */
export class RepoGitBackend implements GitBackend {
  readonly repo: Repository;
  /** The space pushes write to; fetches read through the view of the same name. */
  readonly space: Space;
  readonly #internals: RepoInternals;
  readonly #budget: number;

  constructor(repo: Repository, options: BackendOptions = {}) {
    this.repo = repo;
    this.space = options.space === 'ephemeral' ? 'ephemeral' : 'regular';
    this.#internals = internalsOf(repo);
    this.#budget = options.reachabilityBudget ?? 2_000_000;
  }

  async listRefs(prefixes?: readonly string[]): Promise<AdvertisedRef[]> {
    const refs = await this.repo.listRefs({ view: this.space });
    const out: AdvertisedRef[] = [];
    const want = (name: string) => prefixes === undefined || prefixes.length === 0 || prefixes.some((p) => name.startsWith(p));
    const head = await this.repo.refs.head();
    if (head !== undefined && want('HEAD')) {
      const v = refs.find(([n]) => n === head)?.[1];
      out.push(v ? { name: 'HEAD', oid: v.oid, symref: head } : { name: 'HEAD', symref: head });
    }
    for (const [name, v] of refs) if (want(name)) out.push({ name, oid: v.oid, ...(v.peeled ? { peeled: v.peeled } : {}) });
    return out;
  }

  async hasObjects(oids: readonly Oid[]): Promise<Set<Oid>> {
    const has = await this.#internals.objects.has(oids);
    return new Set(oids.filter((_, i) => has[i]));
  }

  readyToSend(wants: readonly Oid[], common: readonly Oid[], walk?: WalkBudget): Promise<boolean> {
    return wantsReachCommon(this.#internals.objects, wants, common, walk);
  }

  async invalidWants(wants: readonly Oid[], walk?: WalkBudget): Promise<Oid[]> {
    const refs = await this.repo.listRefs({ view: this.space });
    const tips = new Set<Oid>();
    for (const [, v] of refs) {
      tips.add(v.oid);
      if (v.peeled) tips.add(v.peeled);
    }
    const rest = [...new Set(wants)].filter((w) => !tips.has(w));
    if (rest.length === 0) return [];
    const exists = await this.#internals.objects.has(rest);
    const invalid = rest.filter((_, i) => !exists[i]);
    const pending = new Set(rest.filter((_, i) => exists[i]));
    if (pending.size === 0) return invalid;
    // Walk from the visible tips, newest generations first (a partial clone asks for blobs of
    // recent trees), until every remaining want was met or the budget is spent.
    const { reached } = await reachableObjects(this.#internals.objects, tips, {
      until: (r) => [...pending].every((p) => r.has(p)),
      budget: this.#budget,
      walk,
    });
    return [...invalid, ...[...pending].filter((p) => !reached.has(p))];
  }

  /** The plan input of a fetch request in this view (deepen-not refs resolved, include-tag tags listed). */
  async #planInput(request: FetchRequest): Promise<ObjectPlanInput> {
    let deepenNot: Oid[] | undefined;
    if (request.deepenNot && request.deepenNot.length > 0) {
      deepenNot = [];
      for (const name of request.deepenNot) {
        // Any ref name, as upload-pack's expand_ref reads it; a raw sha is accepted too.
        const v = (await this.#internals.findRef(name, this.space, { refsPrefix: true }))?.value;
        let found: Oid | undefined = v === undefined ? undefined : (v.peeled ?? v.oid);
        if (found === undefined && isOid(name)) found = name;
        if (found === undefined) throw new ProtocolError(`deepen-not: ref ${name} not found`);
        deepenNot.push(await this.#internals.peelToCommit(found));
      }
    }
    const includeTags = request.includeTag ? await this.#internals.annotatedTags(this.space) : undefined;
    return {
      wants: request.wants,
      haves: request.haves,
      clientShallows: request.clientShallows,
      depth: request.depth,
      deepenRelative: request.deepenRelative,
      deepenSince: request.deepenSince,
      deepenNot,
      filter: request.filter,
      includeTags,
      thinPack: request.thinPack,
      ofsDelta: request.ofsDelta,
      walk: request.walk,
    };
  }

  async fetch(request: FetchRequest): Promise<FetchResponse> {
    return this.#internals.fetchPack(await this.#planInput(request));
  }

  async shallowInfo(request: FetchRequest): Promise<{ shallow: Oid[]; unshallow: Oid[] }> {
    return planShallow(this.#internals.objects, await this.#planInput(request));
  }

  receive(commands: readonly RefCommand[], pack: AsyncIterable<Uint8Array> | null, options: ReceiveOptions): Promise<ReceiveResult> {
    // Counted as one write from the pack to the last ref, so a sweep cannot collect in between.
    const found: { warnings?: string[] } = {};
    return this.#internals.withWrite(async () => {
      // The pack's objects are unreferenced until its refs land: a sweep marker from before
      // they are stored (a crash leaves it), withdrawn once every ref landed, and a fresh one
      // (which a sweep running meanwhile cannot have read) when some did not.
      const withdraw = pack === null ? undefined : await this.#internals.markSweep();
      let result: ReceiveResult | undefined;
      try {
        result = await this.#receive(commands, pack, options, found);
      } finally {
        // An unpack error stored nothing (ingest promotes only a checked, complete pack; a large
        // one's early objects are taken back, or covered by ingest's own marker).
        if (withdraw !== undefined && (result?.unpackError !== undefined || result?.results.every((r) => r.ok))) await withdraw();
        else if (withdraw !== undefined) await this.#internals.markSweep();
      }
      return found.warnings ? { ...result, warnings: found.warnings } : result;
    });
  }

  async #receive(
    commands: readonly RefCommand[],
    pack: AsyncIterable<Uint8Array> | null,
    options: ReceiveOptions,
    found: { warnings?: string[] },
  ): Promise<ReceiveResult> {
    if (pack !== null) {
      try {
        const ingested = await this.#internals.ingest(pack);
        if (ingested.warnings) found.warnings = ingested.warnings;
      } catch (err) {
        // A refused pack is reported to the client; anything else (a bug) propagates.
        if (!(err instanceof LevelGitError)) throw err;
        return { unpackError: err.message.replace(/\n/g, ' '), results: commands.map((c) => ({ ref: c.ref, ok: false, reason: 'unpacker error' })) };
      }
    }
    const ttl = ttlFromPushOptions(options.pushOptions);
    const space = this.space;
    const expiresAt = space === 'ephemeral' ? this.#internals.ephemeralExpiry(ttl) : undefined;

    // Per-command checks that need no lock: names, objects, policy. The new values' types are
    // read in one batch (a push of every tag names thousands).
    const targets = [...new Set(commands.filter((c) => c.newOid !== ZERO_OID).map((c) => c.newOid))];
    const targetInfos = new Map(targets.map((o, i) => [o, i]));
    const infos = await this.#internals.objects.info(targets);
    const checked = await Promise.all(
      commands.map(async (c): Promise<{ cmd: RefCommand; reason?: string; update?: RefUpdate }> => {
        if (!isRefName(c.ref)) return { cmd: c, reason: 'invalid ref name' };
        const del = c.newOid === ZERO_OID;
        if (!del) {
          const info = infos[targetInfos.get(c.newOid)!];
          if (info === undefined) return { cmd: c, reason: 'missing necessary objects' };
          if (c.ref.startsWith('refs/heads/') && info.type !== 'commit') return { cmd: c, reason: 'branches must point at commits' };
        }
        const refusal = options.policy?.(await describeRefUpdate(this.#internals.objects, c.ref, c.oldOid, c.newOid));
        if (refusal) return { cmd: c, reason: refusal };
        if (space === 'ephemeral') {
          // Old values on the wire come from the merged view; compare against that view.
          const own = await this.repo.refs.get(c.ref, { space: 'ephemeral' });
          const seen = own?.oid ?? (await this.repo.getRef(c.ref))?.oid ?? ZERO_OID;
          if (seen !== c.oldOid) return { cmd: c, reason: 'stale info' };
          if (del && own === undefined) return { cmd: c, reason: 'cannot delete a regular ref through the ephemeral namespace' };
          return { cmd: c, update: { ref: c.ref, oldOid: own?.oid ?? ZERO_OID, newOid: c.newOid, space, expiresAt } };
        }
        return { cmd: c, update: { ref: c.ref, oldOid: c.oldOid, newOid: c.newOid, space } };
      }),
    );

    // What git prints for a ref that could not move. Only refusals become reasons: any other
    // failure (the database, a bug) propagates instead of being reported as a refused ref.
    const reasonOf = (err: unknown): string => {
      if (!(err instanceof LevelGitError)) throw err;
      return err instanceof RefConflictError ? conflictReason(err) : err instanceof MissingObjectsError ? 'missing necessary objects' : err.message;
    };

    if (options.atomic) {
      const failed = checked.find((c) => c.reason !== undefined);
      if (failed) {
        return { results: checked.map((c) => ({ ref: c.cmd.ref, ok: false, reason: c.reason ?? 'atomic transaction failed' })) };
      }
      try {
        await this.#internals.transact(
          checked.map((c) => c.update!),
          'push',
        );
        return { results: checked.map((c) => ({ ref: c.cmd.ref, ok: true })) };
      } catch (err) {
        const reason = reasonOf(err);
        const bad = (err as LevelGitError).details.ref;
        return {
          results: checked.map((c) => ({ ref: c.cmd.ref, ok: false, reason: bad === undefined || bad === c.cmd.ref ? reason : 'atomic transaction failed' })),
        };
      }
    }
    // Without --atomic each ref stands alone, but a push of many refs (every tag) usually
    // lands whole: try one transaction first, and only when it fails apply them one by one to
    // learn which refs fail and why.
    const valid = checked.filter((c) => c.reason === undefined);
    if (valid.length > 1) {
      let together = true;
      try {
        await this.#internals.transact(
          valid.map((c) => c.update!),
          'push',
        );
      } catch (err) {
        reasonOf(err); // a refusal falls through to one by one; anything else propagates
        together = false;
      }
      if (together)
        return { results: checked.map((c) => (c.reason === undefined ? { ref: c.cmd.ref, ok: true } : { ref: c.cmd.ref, ok: false, reason: c.reason })) };
    }
    const results: ReceiveResult['results'] = [];
    for (const c of checked) {
      if (c.reason !== undefined) {
        results.push({ ref: c.cmd.ref, ok: false, reason: c.reason });
        continue;
      }
      try {
        await this.#internals.transact([c.update!], 'push');
        results.push({ ref: c.cmd.ref, ok: true });
      } catch (err) {
        results.push({ ref: c.cmd.ref, ok: false, reason: reasonOf(err) });
      }
    }
    return { results };
  }
}

/** What git prints for a ref that could not move: a name taken by a ref below or above it, or an old value that moved. */
function conflictReason(err: RefConflictError): string {
  const { ref, conflictsWith } = err.details;
  if (typeof conflictsWith === 'string' && typeof ref === 'string') return `cannot lock ref '${ref}': '${conflictsWith}' exists; cannot create '${ref}'`;
  return 'stale info';
}
