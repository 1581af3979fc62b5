/**
 * Hooks for embedders: `beforeRefUpdate` can refuse an update with a message git prints, and
 * nothing moves; `afterRefUpdate` sees pushes, commits, promotions and expiry alike.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openEngine, type Engine, type RefUpdateEvent } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { commitFiles, gitRunner, startServer, tempDirs } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
const after: RefUpdateEvent[] = [];

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({
    path: dirs.make('lg-db-'),
    beforeRefUpdate: (e) => {
      if (e.updates.some((u) => u.ref === 'refs/heads/protected')) return 'protected is frozen by policy';
      return undefined;
    },
    afterRefUpdate: (e) => {
      after.push(e);
    },
  });
  await engine.createRepo('hooks');
  server = await startServer(createNodeHandler({ engine }) as never);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('ref update hooks', () => {
  it('a refusal reaches git with its message and moves nothing; afterRefUpdate sees every source', async () => {
    const work = dirs.make('lg-work-');
    await g.ok(['init', '-q', '-b', 'main', work]);
    await commitFiles(g, work, { 'a.txt': 'a\n' }, 'first');
    await g.ok(['push', '-q', `${server.url}/hooks.git`, 'main']);
    // afterRefUpdate runs after the response; poll rather than guess how long that takes.
    await vi.waitFor(() => expect(after.map((e) => e.source)).toEqual(['push']));
    expect(after[0]!.updates[0]).toMatchObject({ ref: 'refs/heads/main', space: 'regular' });

    const refused = await g.run(['push', `${server.url}/hooks.git`, 'main:protected'], work);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('protected is frozen by policy');
    const repo = await engine.getRepo('hooks');
    expect(await repo.refs.get('refs/heads/protected')).toBeUndefined();

    await expect(
      repo.commit({
        branch: 'protected',
        baseBranch: 'main',
        message: 'x',
        author: { name: 'A', email: 'a@example.com' },
        changes: [{ path: 'b', content: 'b' }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_REF_REJECTED', message: 'protected is frozen by policy' });

    await repo.commit({
      branch: 'side',
      baseBranch: 'main',
      space: 'ephemeral',
      ttlSeconds: 1,
      message: 'e',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'e', content: 'e' }],
    });
    await repo.commit({
      branch: 'sandbox',
      baseBranch: 'main',
      space: 'ephemeral',
      message: 'p',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'p', content: 'p' }],
    });
    await repo.promote({ baseBranch: 'sandbox', targetBranch: 'promoted' });
    await new Promise((r) => setTimeout(r, 1100));
    await repo.sweep();
    await vi.waitFor(() => expect(after.map((e) => e.source)).toEqual(['push', 'commit', 'commit', 'promote', 'expire']));
    expect(after.at(-1)!.updates).toEqual([expect.objectContaining({ ref: 'refs/heads/side', space: 'ephemeral', newOid: '0'.repeat(40) })]);
  });
});
