/** HTTP test helpers: a local server on 127.0.0.1:0, commits through git (temp dirs and git runners come from test/helpers). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { gitRunner } from '../helpers/git.js';

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
