/**
 * The engine conformance suite inside a sublevel of a memory-level database that also holds
 * the host application's own data, which the engine must neither see nor touch.
 */
import { afterEach, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { conformance } from './conformance.js';
import type { EngineFactory } from './helpers.js';

const hosts: MemoryLevel<string, string>[] = [];

const sublevelFactory: EngineFactory = async () => {
  const host = new MemoryLevel<string, string>();
  await host.put('app:user:1', 'alice');
  await host.put('\xff', 'last key of the host');
  hosts.push(host);
  const engine = await openEngine({ db: host.sublevel('git', { keyEncoding: 'view', valueEncoding: 'view' }) as never });
  return {
    engine,
    dispose: async () => {
      await engine.close();
      // The host's own keys are exactly as they were.
      expect(await host.get('app:user:1')).toBe('alice');
      expect(await host.get('\xff')).toBe('last key of the host');
      await host.close();
    },
  };
};

conformance('memory-level sublevel', sublevelFactory);

afterEach(() => void hosts.splice(0));

it('keeps every engine key inside its sublevel', async () => {
  const host = new MemoryLevel<string, string>();
  await host.put('app', 'data');
  const engine = await openEngine({ db: host.sublevel('git', { keyEncoding: 'view', valueEncoding: 'view' }) as never });
  const repo = await engine.createRepo('r');
  await repo.commit({ branch: 'main', message: 'm', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'f', content: 'x' }] });
  const outside: string[] = [];
  for await (const k of host.keys<Buffer>({ keyEncoding: 'buffer' })) if (!k.subarray(0, 5).equals(Buffer.from('!git!'))) outside.push(k.toString('latin1'));
  expect(outside).toEqual(['app']);
  await engine.close();
  await host.close();
});
