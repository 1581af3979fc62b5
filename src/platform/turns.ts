/**
 * Cooperative slicing of long synchronous work, so one request never freezes the others of
 * its process: a loop asks `due()` and, once its slice is used up, awaits `pause()`, which
 * gives the event loop a macrotask turn (timers and I/O run). Branches of work that pause
 * together (concurrent subtrees of one commit, two commits at once) share the turn, and after
 * it only the first to resume gets the new slice; the others wait for the next turn. So the
 * loop is never held longer than about one slice per turn, however many branches run.
 */

const schedule: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => setTimeout(fn, 0);

/** Slices of `ms` milliseconds of work between turns of the event loop (see the module comment). */
export class Slicer {
  readonly #ms: number;
  #start = performance.now();
  #turn: Promise<void> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** True when the current slice is used up (the caller then awaits `pause`). */
  due(): boolean {
    return performance.now() - this.#start > this.#ms;
  }

  /** Waits for a turn of the event loop that leaves this caller a fresh slice. */
  async pause(): Promise<void> {
    do await this.#nextTurn();
    while (this.due());
  }

  #nextTurn(): Promise<void> {
    this.#turn ??= new Promise<void>((resolve) =>
      schedule(() => {
        this.#turn = undefined;
        this.#start = performance.now();
        resolve();
      }),
    );
    return this.#turn;
  }
}
