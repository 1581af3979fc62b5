/**
 * The cost budget of one upload-pack request's planning walks: commits walked (every walk of
 * the request counts, revisits included: the want check, each negotiation round's "ready" test,
 * the fetch's plan) and wall time from the request's start. Created per request by
 * upload-pack.ts and handed to the backend, whose walks charge it (repo/commit-walk.ts,
 * tree-walk.ts); past either limit a LimitExceededError (`details.limit` 'maxWalkCommits' or
 * 'maxWalkMs') ends the request with an `ERR` line, and nothing else is held up.
 */
import { LimitExceededError } from '../errors.js';

/** The limits a WalkBudget enforces (see UploadPackLimits). */
export interface WalkLimits {
  /** Most commits the request's walks may visit together. */
  maxWalkCommits: number;
  /** Most milliseconds the request's walks may run, counted from the request's start. */
  maxWalkMs: number;
}

/** Charges one request's walks; see the module comment. */
export class WalkBudget {
  readonly #limits: WalkLimits;
  readonly #start: number;
  readonly #now: () => number;
  #commits = 0;

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
