/** The resolver's base cache: bounded by bytes, least recently used out first. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BaseCache } from '../../src/pack/base-cache.js';
import type { Oid } from '../../src/object/oid.js';

const body = (n: number) => new Uint8Array(n);
const id = (s: string) => s as Oid;

describe('BaseCache', () => {
  it('drops the least recently used bodies once over its bytes; a hit counts as a use', () => {
    const c = new BaseCache(100);
    c.set(id('a'), body(40));
    c.set(id('b'), body(40));
    expect(c.get(id('a'))?.length).toBe(40); // a is now newer than b
    c.set(id('c'), body(40));
    expect(c.peek(id('b'))).toBeUndefined();
    expect(c.peek(id('a'))).toBeDefined();
    expect(c.peek(id('c'))).toBeDefined();
  });

  it('never caches a body larger than its bound, and replacing an id frees its old bytes', () => {
    const c = new BaseCache(100);
    c.set(id('a'), body(60));
    c.set(id('big'), body(101));
    expect(c.peek(id('big'))).toBeUndefined();
    expect(c.peek(id('a'))).toBeDefined();
    c.set(id('a'), body(10));
    c.set(id('b'), body(90));
    expect(c.peek(id('a'))?.length).toBe(10);
    expect(c.peek(id('b'))).toBeDefined();
  });

  it('counts an empty body as one byte', () => {
    const c = new BaseCache(2);
    c.set(id('a'), body(0));
    c.set(id('b'), body(0));
    c.set(id('c'), body(0));
    expect(c.peek(id('a'))).toBeUndefined();
    expect(c.peek(id('c'))).toBeDefined();
  });

  it('holds what a list in use order holds, for any sequence of uses', () => {
    const op = fc.record({ get: fc.boolean(), key: fc.integer({ min: 0, max: 9 }), size: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const c = new BaseCache(100);
        let model: [string, number][] = []; // oldest first
        for (const o of ops) {
          const k = String(o.key);
          if (o.get) {
            const at = model.findIndex(([m]) => m === k);
            expect(c.get(id(k))?.length).toBe(at < 0 ? undefined : model[at]![1]);
            if (at >= 0) model.push(...model.splice(at, 1));
          } else {
            c.set(id(k), body(o.size));
            model = model.filter(([m]) => m !== k);
            model.push([k, o.size]);
            const bytes = () => model.reduce((a, [, n]) => a + Math.max(1, n), 0);
            while (bytes() > 100) model.shift();
          }
          for (let j = 0; j < 10; j++) {
            const m = model.find(([x]) => x === String(j));
            expect(c.peek(id(String(j)))?.length).toBe(m?.[1]);
          }
        }
      }),
    );
  });
});
