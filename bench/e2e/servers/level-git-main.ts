/**
 * level-git's Node handler in node:http on 127.0.0.1, on the on-disk default database,
 * run as its own process so the bench can read its CPU time and peak RSS from /proc.
 * The engine is loaded dynamically: while it does not exist yet, this prints
 * {"error": ...} and exits, and the runner leaves level-git out.
 *
 * usage: node --import tsx bench/e2e/servers/level-git-main.ts --data <dir> [--no-pack-cache]
 *          [--request-timeout MS]   (Node's limit on receiving one request; 0: none, as the
 *                                    history bench runs it, bounding each step itself)
 * Prints {"port":N} on its first stdout line.
 */
import { createServer } from 'node:http';
import { exitWithParent, handleControl, Traffic } from './control.js';
import { BENCH_API_KEY } from './level-git.js';

exitWithParent();

interface Engine {
  createRepo(name: string): Promise<unknown>;
  close(): Promise<void>;
}
type NodeHandler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: (err?: unknown) => void) => void;

const dataIndex = process.argv.indexOf('--data');
const dataDir = dataIndex > 0 ? process.argv[dataIndex + 1] : undefined;

async function main(): Promise<void> {
  if (dataDir === undefined) throw new Error('missing --data');
  // Paths built at run time so type-checking does not depend on modules still being written.
  const indexPath = '../../../src/index.js';
  const handlerPath = '../../../src/http/node-handler.js';
  const { openEngine } = (await import(indexPath)) as {
    openEngine: (o: { path: string; packCache?: { maxBytes: number; warm: boolean } }) => Promise<Engine> | Engine;
  };
  const { createNodeHandler } = (await import(handlerPath)) as { createNodeHandler: (o: { engine: Engine }) => NodeHandler };
  if (typeof openEngine !== 'function' || typeof createNodeHandler !== 'function') throw new Error('engine API not available yet');
  const noPackCache = process.argv.includes('--no-pack-cache');
  const engine = await openEngine({ path: dataDir, ...(noPackCache ? { packCache: { maxBytes: 0, warm: false } } : {}) });
  const handler = createNodeHandler({ engine });
  const api = await loadApi(engine);
  const traffic = new Traffic();
  const createRepo = async (name: string): Promise<void> => {
    await engine.createRepo(name);
  };
  const server = createServer((req, res) => {
    if (handleControl(req, res, traffic, createRepo)) return;
    if (api !== null && (req.url ?? '').startsWith('/api/')) {
      traffic.begin();
      res.on('close', () => traffic.end());
      api(req, res, (err) => {
        if (!res.headersSent) res.writeHead(err ? 500 : 404, { 'content-type': 'text/plain' });
        res.end(err ? String(err) : 'not found');
      });
      return;
    }
    traffic.count(req, res);
    traffic.begin();
    res.on('close', () => traffic.end());
    handler(req, res, (err) => {
      if (!res.headersSent) res.writeHead(err ? 500 : 404, { 'content-type': 'text/plain' });
      res.end(err ? String(err) : 'not found');
    });
  });
  server.keepAliveTimeout = 30_000;
  const timeoutIndex = process.argv.indexOf('--request-timeout');
  if (timeoutIndex > 0) server.requestTimeout = Number(process.argv[timeoutIndex + 1]);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      void engine.close().finally(() => process.exit(0));
    });
  });
}

/** Mounts the JSON API when it exists (for the api workload); null when it cannot be loaded. */
async function loadApi(engine: Engine): Promise<NodeHandler | null> {
  try {
    const apiPath = '../../../src/http/node-handler.js';
    const tokensPath = '../../../src/access/tokens.js';
    const { createApiNodeHandler } = (await import(apiPath)) as { createApiNodeHandler: (o: unknown) => NodeHandler };
    const { createTokenService } = (await import(tokensPath)) as { createTokenService: (o: unknown) => unknown };
    const tokens = createTokenService({ keys: { secret: 'level-git-bench-secret-level-git-bench-secret' } });
    return createApiNodeHandler({ engine, tokens, adminKey: BENCH_API_KEY });
  } catch (e) {
    process.stderr.write(`JSON API not mounted: ${String((e as Error)?.message ?? e)}\n`);
    return null;
  }
}

main().catch((e: unknown) => {
  console.log(JSON.stringify({ error: String((e as Error)?.message ?? e) }));
  process.exit(1);
});
