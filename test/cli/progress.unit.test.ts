/** Progress lines of the CLI (cli/progress.ts): git's format, throttled, rewritten in place only on a terminal. */
import { describe, expect, it } from 'vitest';
import { ProgressLine, formatBytes, showProgress } from '../../src/cli/progress.js';

function capture(tty: boolean) {
  const out: string[] = [];
  let t = 0;
  return { out, clock: (ms: number) => (t = ms), options: { write: (s: string) => out.push(s), tty, now: () => t } };
}

describe('ProgressLine', () => {
  it('prints git-style lines at most once per interval, then the final line with ", done."', () => {
    const c = capture(false);
    const line = new ProgressLine('Receiving objects', c.options);
    c.clock(0);
    line.update(10, 200, 2048);
    c.clock(500);
    line.update(50, 200, 4096); // within the second: not printed
    c.clock(1000);
    line.update(90, 200, 1.5 * 1024 * 1024);
    c.clock(2000);
    line.done(200, 200, 3 * 1024 * 1024);
    line.update(200, 200); // after done: nothing
    expect(c.out).toEqual([
      'Receiving objects:   5% (10/200), 2.00 KiB\n',
      'Receiving objects:  45% (90/200), 1.50 MiB | 1.50 MiB/s\n',
      'Receiving objects: 100% (200/200), 3.00 MiB | 1.50 MiB/s, done.\n',
    ]);
  });

  it('rewrites one line in place on a terminal, padding over a longer previous text', () => {
    const c = capture(true);
    const line = new ProgressLine('Storing objects', c.options);
    c.clock(1);
    line.update(5, undefined, 1024 ** 3);
    c.clock(2);
    line.done(7);
    const first = 'Storing objects: 5, 1.00 GiB | 1000.00 GiB/s';
    const last = 'Storing objects: 100% (7/7), done.';
    expect(c.out).toEqual([`\r${first}`, `\r${last}${' '.repeat(first.length - last.length)}\n`]);
  });

  it('formats bytes as git does and decides like git whether to show progress', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(showProgress(undefined, true)).toBe(true);
    expect(showProgress(undefined, false)).toBe(false);
    expect(showProgress(true, false)).toBe(true);
    expect(showProgress(false, true)).toBe(false);
  });
});
