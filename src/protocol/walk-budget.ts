/**
 * The cost budget of one upload-pack request's planning walks: commits walked (every walk of
 * the request counts, revisits included: the want check, each negotiation round's "ready" test,
 * the fetch's plan), wall time from the request's start, and the objects its pack plan holds
 * (each planned object costs memory until the pack is sent, so this bounds a full clone's
 * memory). Created per request by upload-pack.ts and handed to the backend, whose walks charge
 * it (repo/commit-walk.ts, tree-walk.ts, walk.ts); past any limit a LimitExceededError
 * (`details.limit` 'maxWalkCommits', 'maxWalkMs' or 'maxPackObjects') ends the request with an
 * `ERR` line before any pack byte, and nothing else is held up.
 */
import { LimitExceededError } from '../errors.js';

/** The limits a WalkBudget enforces (see UploadPackLimits). */
export interface WalkLimits {
  /** Most commits the request's walks may visit together. */
  maxWalkCommits: number;
  /** Most milliseconds the request's walks may run, counted from the request's start. */
  maxWalkMs: number;
  /** Most objects the request's pack plan may hold; no limit when absent. */
  maxPackObjects?: number;
}

/** Charges one request's walks; see the module comment. */
export class WalkBudget {
  readonly #limits: WalkLimits;
  readonly #start: number;
  readonly #now: () => number;
  #commits = 0;
  #objects = 0;

  /** A budget starting now (`now` for tests). */
  constructor(limits: WalkLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
    this.#start = now();
  }

  /** Commits charged so far. */
  get walked(): number {
    return this.#commits;
  }

  /** Charges `n` commits about to be visited, and checks the time. */
  commits(n: number): void {
    this.#commits += n;
    if (this.#commits > this.#limits.maxWalkCommits) {
      throw new LimitExceededError(`the request walks more than ${this.#limits.maxWalkCommits} commits; ask for less history at once`, {
        details: { limit: 'maxWalkCommits', max: this.#limits.maxWalkCommits },
      });
    }
    this.tick();
  }

  /** Objects charged so far. */
  get planned(): number {
    return this.#objects;
  }

  /** Charges `n` objects entering the request's pack plan. */
  objects(n: number): void {
    this.#objects += n;
    const max = this.#limits.maxPackObjects;
    if (max !== undefined && this.#objects > max) {
      throw new LimitExceededError(
        `the requested pack would hold more than ${max} objects (maxPackObjects); fetch less at once: a shallow clone (--depth) or a partial clone (--filter=blob:none)`,
        { details: { limit: 'maxPackObjects', max } },
      );
    }
  }

  /** Checks the time (between batches of tree reads, say). */
  tick(): void {
    const ms = this.#now() - this.#start;
    if (ms > this.#limits.maxWalkMs) {
      throw new LimitExceededError(`the request's history walks took more than ${this.#limits.maxWalkMs} ms; ask for less history at once`, {
        details: { limit: 'maxWalkMs', max: this.#limits.maxWalkMs },
      });
    }
  }
}
