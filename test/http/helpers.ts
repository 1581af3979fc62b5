/** HTTP test helpers: a local server on 127.0.0.1:0, commits through git (temp dirs and git runners come from test/helpers). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gitRunner } from '../helpers/git.js';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';

export { gitEnv, gitRunner } from '../helpers/git.js';
export { tempDirs } from '../helpers/tmp.js';

/** Starts an HTTP server on 127.0.0.1 with a random port. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Writes files (path → content) under `dir` and commits them. */
export async function commitFiles(g: ReturnType<typeof gitRunner>, dir: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  await g.ok(['add', '-A'], dir);
  await g.ok(['commit', '-q', '-m', message], dir);
  return g.ok(['rev-parse', 'HEAD'], dir);
}

/**
 * An on-disk engine (pack cache off) with one empty repository `name` served over HTTP, and a
 * fresh git work tree on branch main whose git runs with a HOME of its own.
 */
export async function servedRepo(
  dirs: { make(prefix?: string): string },
  name: string,
): Promise<{
  home: string;
  g: ReturnType<typeof gitRunner>;
  engine: Engine;
  server: { url: string; close(): Promise<void> };
  work: string;
}> {
  const home = dirs.make('lg-home-');
  const g = gitRunner(home);
  const engine = await openEngine({ path: dirs.make('lg-db-'), packCache: { maxBytes: 0 } });
  await engine.createRepo(name);
  const server = await startServer(createNodeHandler({ engine }) as never);
  const work = dirs.make('lg-work-');
  await g.ok(['init', '-q', '-b', 'main', work]);
  return { home, g, engine, server, work };
}
