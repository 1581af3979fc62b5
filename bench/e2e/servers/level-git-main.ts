/**
 * level-git's Node handler in node:http on 127.0.0.1, on the on-disk default database,
 * run as its own process so the bench can read its CPU time and peak RSS from /proc.
 * The engine is loaded dynamically: while it does not exist yet, this prints
 * {"error": ...} and exits, and the runner leaves level-git out.
 *
 * usage: node --import tsx bench/e2e/servers/level-git-main.ts --data <dir> [--no-pack-cache]
 *          [--request-timeout MS]   (Node's limit on receiving one request; 0: none, as the
 *                                    history bench runs it, bounding each step itself)
 *          [--db postgres://...]    (the engine over PostgreSQL with PostgresRefLock instead of
 *                                    the on-disk default; `--data` is then unused)
 *          [--workers N]            (with --db: N processes behind one port, Node's cluster)
 * Prints {"port":N} on its first stdout line ({"port":N,"pids":[...]} with --workers).
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { exitWithParent, handleControl, Traffic } from './control.js';
import { BENCH_API_KEY } from './level-git.js';
import { openPostgresEngine, type Engine, type OpenEngine, type QueryMeter } from './postgres-engine.js';

exitWithParent();

type NodeHandler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: (err?: unknown) => void) => void;

const argValue = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dataDir = argValue('--data');
const dbUrl = argValue('--db');
const workers = Number(argValue('--workers') ?? 0);

async function main(): Promise<void> {
  if (dataDir === undefined) throw new Error('missing --data');
  if (workers > 0 && cluster.isPrimary) return primary();
  // Paths built at run time so type-checking does not depend on modules still being written.
  const indexPath = '../../../src/index.js';
  const handlerPath = '../../../src/http/node-handler.js';
  const { openEngine } = (await import(indexPath)) as {
    openEngine: OpenEngine;
  };
  const { createNodeHandler } = (await import(handlerPath)) as { createNodeHandler: (o: { engine: Engine }) => NodeHandler };
  if (typeof openEngine !== 'function' || typeof createNodeHandler !== 'function') throw new Error('engine API not available yet');
  const noPackCache = process.argv.includes('--no-pack-cache');
  const fullPacks = process.argv.includes('--full-packs');
  const packCache = noPackCache ? { packCache: { maxBytes: 0, warm: false, fullPacks } } : fullPacks ? { packCache: { fullPacks } } : {};
  let meter: QueryMeter | null = null;
  let engine: Engine;
  if (dbUrl !== undefined) {
    const pg = await openPostgresEngine(openEngine, dbUrl, packCache);
    engine = pg.engine;
    meter = pg.meter;
  } else {
    engine = await openEngine({ path: dataDir, ...packCache });
  }
  const handler = createNodeHandler({ engine });
  const api = await loadApi(engine);
  const traffic = new Traffic();
  const createRepo = async (name: string): Promise<void> => {
    await engine.createRepo(name);
  };
  const server = createServer((req, res) => {
    if (meter !== null && req.url === '/_bench/queries') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(meter.read()));
      return;
    }
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
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  // A cluster worker tells the primary (which prints the line); the port is shared by all.
  if (cluster.isWorker) process.send!({ port });
  else console.log(JSON.stringify({ port }));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      void engine
        .close()
        .then(() => meter?.close())
        .finally(() => process.exit(0));
    });
  });
}

/**
 * The cluster's primary: forks the workers (each an engine over the same database), prints
 * the shared port and the workers' pids once all listen, and stops them on SIGTERM.
 */
async function primary(): Promise<void> {
  const ports: number[] = [];
  const forked = Array.from({ length: workers }, () => cluster.fork());
  await new Promise<void>((resolve, reject) => {
    for (const w of forked) {
      w.once('message', (m: { port: number }) => {
        ports.push(m.port);
        if (ports.length === workers) resolve();
      });
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before listening`)));
    }
  });
  console.log(JSON.stringify({ port: ports[0], pids: forked.map((w) => w.process.pid) }));
  process.on('SIGTERM', () => {
    let left = forked.length;
    for (const w of forked) {
      w.once('exit', () => --left === 0 && process.exit(0));
      w.process.kill('SIGTERM');
    }
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
