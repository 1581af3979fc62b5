/**
 * Ref transactions across browser tabs. Two tabs of one origin open the same IndexedDB
 * database, and the default `InProcessLock` serializes only one page's callers: both tabs
 * could read a branch at X and both move it from X, losing one commit. The Web Locks API
 * (`navigator.locks`) gives a lock every tab, frame and worker of the origin shares, so the
 * engine takes it by default on a browser-level database.
 */
import type { Kv } from '../storage/kv.js';
import { InProcessLock, type RefLock } from './lock.js';

/** The part of the Web Locks API this lock uses (`navigator.locks`). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** A RefLock over the Web Locks API: exclusive across every tab, frame and worker of the origin. */
export class WebLocksLock implements RefLock {
  readonly #locks: LockManagerLike;
  readonly #scope: string;

  /**
   * `scope` names the database (two databases do not wait for each other); `locks` defaults
   * to `navigator.locks` (TypeError where the runtime has none: insecure pages, Node).
   */
  constructor(scope: string, locks: LockManagerLike | undefined = webLocks()) {
    if (locks === undefined) throw new TypeError('WebLocksLock needs the Web Locks API (navigator.locks: browsers, in a secure context)');
    this.#locks = locks;
    this.#scope = scope;
  }

  /** Runs `fn` holding the origin-wide lock named after the scope and `key`. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.request(`level-git:${this.#scope}:${key}`, fn);
  }
}

/** `navigator.locks` where the runtime has it. */
export function webLocks(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return typeof locks?.request === 'function' ? locks : undefined;
}

/**
 * The engine's lock when the application passes none: a WebLocksLock on a browser-level
 * database where the Web Locks API exists, else the in-process lock (Node, other backends).
 */
export function defaultRefLock(kv: Kv): RefLock {
  const locks = kv.idb === undefined ? undefined : webLocks();
  return locks === undefined ? new InProcessLock() : new WebLocksLock(kv.idb!.name, locks);
}
