/**
 * Progress lines for long work the CLI starts, as git prints them on stderr:
 *   Receiving objects:  45% (2310/5134), 3.20 MiB | 1.52 MiB/s
 *   Receiving objects: 100% (5134/5134), 9.40 MiB | 1.61 MiB/s, done.
 * On a terminal one line is rewritten in place (`\r`) at most every 100 ms; elsewhere nothing is
 * printed unless asked (`--progress`), and then a line at most every second. The rate is over
 * the whole phase (git shows the last second's; for a pack that streams steadily they agree).
 */

/** Where the lines go and how often. */
export interface ProgressOptions {
  write: (s: string) => void;
  /** A terminal: lines rewritten in place. */
  tty: boolean;
  /** Minimum time between two lines of one phase (default 100 ms on a terminal, 1 s elsewhere). */
  intervalMs?: number;
  now?: () => number;
}

/** One phase's progress line ("Receiving objects", "Storing objects", …). */
export class ProgressLine {
  readonly #o: ProgressOptions;
  readonly #title: string;
  readonly #interval: number;
  readonly #start: number;
  #last = -Infinity;
  #lastText = '';
  #done = false;

  constructor(title: string, options: ProgressOptions) {
    this.#o = options;
    this.#title = title;
    this.#interval = options.intervalMs ?? (options.tty ? 100 : 1000);
    this.#start = this.#now();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Reports `count` (of `total` when known) and `bytes` when given; printed when the interval passed. */
  update(count: number, total?: number, bytes?: number): void {
    if (this.#done) return;
    const t = this.#now();
    if (t - this.#last < this.#interval) return;
    this.#last = t;
    this.#print(this.#text(count, total, bytes, t), false);
  }

  /** Ends the phase with its final numbers and ", done.". */
  done(count: number, total?: number, bytes?: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#print(`${this.#text(count, total ?? count, bytes, this.#now())}, done.`, true);
  }

  #text(count: number, total: number | undefined, bytes: number | undefined, t: number): string {
    let s = `${this.#title}: `;
    if (total !== undefined && total > 0) {
      const pct = Math.min(100, Math.floor((count * 100) / total));
      s += `${String(pct).padStart(3)}% (${count}/${total})`;
    } else s += String(count);
    if (bytes !== undefined) {
      s += `, ${formatBytes(bytes)}`;
      // No rate before any time passed.
      if (t > this.#start) s += ` | ${formatBytes(bytes / ((t - this.#start) / 1000))}/s`;
    }
    return s;
  }

  #print(text: string, final: boolean): void {
    if (this.#o.tty) {
      // Pad over a longer previous text (the rate can shrink).
      const pad = this.#lastText.length > text.length ? ' '.repeat(this.#lastText.length - text.length) : '';
      this.#o.write(`\r${text}${pad}${final ? '\n' : ''}`);
    } else this.#o.write(`${text}\n`);
    this.#lastText = text;
  }
}

/** Bytes as git shows them: bytes, KiB, MiB or GiB with two decimals. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

/**
 * Whether progress is shown: `--progress` forces it, `--no-progress` (or `--quiet`) stops it,
 * else only on a terminal (as git decides).
 */
export function showProgress(flag: boolean | undefined, isTty: boolean): boolean {
  return flag ?? isTty;
}
