/** The resolver's base cache: bounded by bytes, least recently used out first. */
import { describe, expect, it } from 'vitest';
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
});
