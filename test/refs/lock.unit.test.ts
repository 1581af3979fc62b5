/**
 * InProcessLock (src/refs/lock.ts), the default RefLock: one critical section at a time per
 * key, in arrival order (FIFO, as its doc promises), other keys unaffected, released on throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InProcessLock } from '../../src/refs/lock.js';

const tick = (n = 1) => new Promise<void>((r) => (n <= 0 ? r() : setTimeout(r, n)));
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('InProcessLock', () => {
  it('runs the critical sections of one key one at a time, in arrival order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat({ max: 3 }), fc.boolean()), { minLength: 1, maxLength: 25 }), async (jobs) => {
        const lock = new InProcessLock();
        const active = new Map<string, number>();
        const started: Record<string, number[]> = {};
        const results = await Promise.allSettled(
          jobs.map(([key, delay, fail], i) =>
            lock.run(key, async () => {
              active.set(key, (active.get(key) ?? 0) + 1);
              expect(active.get(key)).toBe(1);
              (started[key] ??= []).push(i);
              await tick(delay);
              active.set(key, active.get(key)! - 1);
              if (fail) throw new Error(`job ${i}`);
              return i;
            }),
          ),
        );
        for (const [key, order] of Object.entries(started)) {
          const arrived = jobs.flatMap(([k], i) => (k === key ? [i] : []));
          expect(order).toEqual(arrived);
        }
        results.forEach((r, i) => {
          if (jobs[i]![2]) expect(r.status === 'rejected' && (r.reason as Error).message).toBe(`job ${i}`);
          else expect(r.status === 'fulfilled' && r.value).toBe(i);
        });
      }),
      { seed: 8_017, numRuns: 40 },
    );
  });

  it('does not make different keys wait for each other', async () => {
    const lock = new InProcessLock();
    let release!: () => void;
    const held = lock.run('a', () => new Promise<void>((r) => (release = r)));
    await turn();
    let ranB = false;
    await lock.run('b', async () => void (ranB = true));
    expect(ranB).toBe(true);
    release();
    await held;
  });

  it('releases the key when the section throws, synchronously or not', async () => {
    const lock = new InProcessLock();
    await expect(lock.run('k', async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    await expect(
      lock.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await lock.run('k', async () => 'after')).toBe('after');
  });

  it('a waiter queued behind a failing section still runs', async () => {
    const lock = new InProcessLock();
    const order: string[] = [];
    const first = lock.run('k', async () => {
      await tick(2);
      order.push('first');
      throw new Error('boom');
    });
    const second = lock.run('k', async () => void order.push('second'));
    await expect(first).rejects.toThrow('boom');
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('a key can be used again after its queue drained', async () => {
    const lock = new InProcessLock();
    for (let i = 0; i < 3; i++) expect(await lock.run('k', async () => i)).toBe(i);
    const all = await Promise.all([1, 2, 3].map((i) => lock.run('k', async () => (await turn(), i))));
    expect(all).toEqual([1, 2, 3]);
  });
});
