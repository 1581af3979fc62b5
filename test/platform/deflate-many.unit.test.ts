/**
 * The portable platform's batched deflate (CompressionStream where the runtime has it, as
 * browsers and Node do): valid zlib streams of each buffer, and commits written through it
 * (ObjectWriter defers whole entries to `flush`) have the same ids and read back as with the
 * per-object deflate. The platform is restored after each test (unit files share module state).
 */
import { MemoryLevel } from 'memory-level';
import { afterEach, describe, expect, it } from 'vitest';
import { getPlatform, openEngine, setPlatform, type Platform } from '../../src/index.js';
import { portablePlatform } from '../../src/platform/portable.js';
import { inflateSync } from 'node:zlib';

const before: Platform = getPlatform();
afterEach(() => setPlatform(before));

const AUTHOR = { name: 'A', email: 'a@example.com', timestamp: 1700000000, timezone: '+0000' };

async function history(): Promise<{ ids: string[]; files: string[] }> {
  const db = new MemoryLevel();
  const engine = await openEngine({ db });
  const repo = await engine.createRepo('r');
  const big = (i: number) => `${i}\n${'some text that repeats, '.repeat(200 + i)}`;
  const a = await repo.commit({
    branch: 'main',
    message: 'a',
    author: AUTHOR,
    changes: Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, content: big(i) })),
  });
  const b = await repo.commit({
    branch: 'main',
    message: 'b',
    author: AUTHOR,
    changes: [
      { path: 'f1', content: `${big(1)}more\n` },
      { path: 'small', content: 'x' },
    ],
  });
  const files = [new TextDecoder().decode(await repo.readFile('main', 'f1')), new TextDecoder().decode(await repo.readFile(a.sha, 'f2'))];
  await engine.close();
  await db.close();
  return { ids: [a.sha, b.sha], files };
}

describe('batched deflate', () => {
  it('produces zlib streams of every buffer, small and large', async () => {
    if (portablePlatform.deflateMany === undefined) return; // a runtime without CompressionStream
    const inputs = [new Uint8Array(0), new TextEncoder().encode('small'), new Uint8Array(100_000).map((_, i) => (i * 7) % 251)];
    const out = await portablePlatform.deflateMany(inputs);
    out.forEach((z, i) => expect(Buffer.compare(inflateSync(z), Buffer.from(inputs[i]!))).toBe(0));
    out.forEach((z, i) => expect(Buffer.from(portablePlatform.inflate(z, inputs[i]!.length))).toEqual(Buffer.from(inputs[i]!)));
  });

  it('commits the same objects as the per-object deflate', async () => {
    const node = await history();
    setPlatform('portable');
    const portable = await history();
    expect(portable.ids).toEqual(node.ids);
    expect(portable.files).toEqual(node.files);
  });
});
