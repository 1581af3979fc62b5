/**
 * Ending a negotiation: the server says "ready" only once every want reaches a commit the
 * client has (git's "ok to give up"), not at the first common commit. A client fetching two
 * unrelated branches sends its newest haves first; if the server stopped at the first common
 * one, the other branch's whole history would come again although the client has it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { gitRunner, startServer, tempDirs } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;

const at = (seconds: number) => ({ GIT_AUTHOR_DATE: `${seconds} +0000`, GIT_COMMITTER_DATE: `${seconds} +0000` });

async function commit(dir: string, file: string, content: string, when: number): Promise<void> {
  fs.mkdirSync(join(dir, file, '..'), { recursive: true });
  fs.writeFileSync(join(dir, file), content);
  await g.ok(['add', '-A'], dir);
  await g.ok(['commit', '-q', '-m', `${file} ${content.length}`], dir, at(when));
}

/** Objects in all packs: a fetch with fetch.unpackLimit=1 keeps what it received as one more pack. */
async function inPack(dir: string): Promise<number> {
  const out = await g.ok(['count-objects', '-v'], dir);
  return Number(/^in-pack: (\d+)$/m.exec(out)![1]);
}

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({ path: dirs.make('lg-db-') });
  await engine.createRepo('neg');
  server = await startServer(createNodeHandler({ engine }) as never);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('negotiation', () => {
  for (const version of ['2', '0']) {
    it(`protocol v${version}: a fetch of two unrelated branches sends only what is new on each`, async () => {
      const repo = `neg-v${version}`;
      await engine.createRepo(repo);
      const url = `${server.url}/${repo}.git`;
      const src = dirs.make('lg-src-');
      await g.ok(['init', '-q', '-b', 'main', src]);
      // "docs": an unrelated history of 40 old commits; "main": 5 recent ones.
      await g.ok(['checkout', '-q', '--orphan', 'docs'], src);
      for (let i = 0; i < 40; i++) await commit(src, `docs/page${i}.md`, `page ${i}\n`, 1_500_000_000 + i * 60);
      await g.ok(['checkout', '-q', '--orphan', 'main'], src);
      await g.ok(['rm', '-rq', '--cached', '.'], src);
      fs.rmSync(join(src, 'docs'), { recursive: true, force: true });
      for (let i = 0; i < 5; i++) await commit(src, `src/m${i}.ts`, `main ${i}\n`, 1_700_000_000 + i * 60);
      await g.ok(['push', '-q', url, 'main', 'docs'], src);

      const client = join(dirs.make('lg-client-'), 'c');
      await g.ok(['-c', `protocol.version=${version}`, 'clone', '-q', '--no-checkout', url, client]);
      // Twenty local branches with commits newer than anything of docs, unknown to the server:
      // they and main's history fill the first rounds of haves.
      for (let b = 0; b < 20; b++) {
        await g.ok(['checkout', '-q', '-B', `local${b}`, 'origin/main'], client);
        await commit(client, `local/${b}.txt`, `local ${b}\n`, 1_600_000_000 + b * 60);
      }
      await g.ok(['repack', '-adq'], client);

      // Upstream, one new commit on each branch.
      await g.ok(['checkout', '-q', 'docs'], src);
      await commit(src, 'docs/new.md', 'new page\n', 1_500_100_000);
      await g.ok(['checkout', '-q', 'main'], src);
      await commit(src, 'src/new.ts', 'new\n', 1_700_100_000);
      await g.ok(['push', '-q', url, 'main', 'docs'], src);

      const before = await inPack(client);
      await g.ok(['-c', `protocol.version=${version}`, '-c', 'fetch.unpackLimit=1', 'fetch', '-q', 'origin'], client);
      const received = (await inPack(client)) - before;
      // Each new commit brings itself, a root tree, one subtree and one blob: 8 objects, the
      // two subtrees as deltas against the client's old versions (a thin pack), whose bases
      // index-pack --fix-thin then appends. Stopping at the first common commit sent 169.
      expect(received).toBeGreaterThanOrEqual(8);
      expect(received).toBeLessThanOrEqual(10);
      expect(await g.ok(['rev-parse', 'origin/docs'], client)).toBe(await g.ok(['rev-parse', 'docs'], src));
      await g.ok(['fsck', '--no-progress'], client);
    });
  }
});
