/**
 * Deleting a repository removes every key it had in the database (objects, refs, ephemeral
 * refs, its record and name), and touches no other repository's keys.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { toHex } from '../../src/platform/bytes.js';
import { AUTHOR } from './helpers.js';

async function keys(db: MemoryLevel<Uint8Array, Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of db.keys({ keyEncoding: 'view' })) out.push(toHex(k));
  return out;
}

describe('deleteRepo', () => {
  it('leaves no key of the deleted repository and every key of the others', async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>();
    const engine = await openEngine({ db: db as never });
    const other = await engine.createRepo('other');
    await other.commit({ branch: 'main', message: 'o', author: AUTHOR, changes: [{ path: 'o.txt', content: 'other' }] });
    const before = await keys(db);
    const doomed = await engine.createRepo('team/doomed');
    await doomed.commit({ branch: 'main', message: 'd', author: AUTHOR, changes: [{ path: 'a/b.txt', content: 'doomed' }] });
    await doomed.commit({
      branch: 'agent',
      message: 'e',
      author: AUTHOR,
      changes: [{ path: 'e.txt', content: 'eph' }],
      space: 'ephemeral',
      baseBranch: 'main',
    });
    await doomed.createTag('v1', 'main', { message: 'tag' });
    expect((await keys(db)).length).toBeGreaterThan(before.length + 8);
    await engine.deleteRepo('team/doomed');
    const after = await keys(db);
    // Only the next-id counter may differ.
    const counter = (k: string) => k.startsWith('53');
    expect(after.filter((k) => !counter(k))).toEqual(before.filter((k) => !counter(k)));
    expect(new TextDecoder().decode(await other.readFile('main', 'o.txt'))).toBe('other');
    await engine.close();
  });
});
