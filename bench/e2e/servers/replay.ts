/**
 * The floor: a proxy that first records a real server's exact responses and then replays
 * them from memory. A clone through it costs the server nothing beyond handing over bytes
 * already in RAM, so its time is the client's own cost (network stack, index-pack,
 * checkout) — the lower bound any server can reach for the same pack.
 *
 * Requests are keyed by method, path, query, the `Git-Protocol` header and the SHA-1 of the
 * (gunzipped) request body; a request with no recording is answered 500 and counted.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { emptyStats, type BenchServer, type ServerStats } from '../../shared/server-types.js';

/** One recorded response. */
export interface Recording {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const DROP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

/** The replay proxy: a BenchServer plus record/replay switches. */
export interface ReplayServer extends BenchServer {
  /** Forward to `upstreamOrigin` (http://host:port) and remember every answer. */
  record(upstreamOrigin: string): void;
  /** Answer only from memory. */
  replay(): void;
  /** Number of recordings and their total body bytes. */
  size(): { entries: number; bytes: number };
  /** Forget all recordings. */
  clear(): void;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** The lookup key of a request. */
export function requestKey(method: string, url: string, gitProtocol: string | undefined, body: Buffer, contentEncoding: string | undefined): string {
  let plain = body;
  if (contentEncoding === 'gzip' && body.length > 0) {
    try {
      plain = gunzipSync(body);
    } catch {
      plain = body;
    }
  }
  const hash = createHash('sha1').update(plain).digest('hex');
  return `${method} ${url} ${gitProtocol ?? ''} ${hash}`;
}

/** Starts the proxy on 127.0.0.1 in this process, in replay mode with no recordings. */
export async function startReplay(name = 'floor'): Promise<ReplayServer> {
  const store = new Map<string, Recording>();
  let upstream: string | null = null;
  let stats: ServerStats = emptyStats();
  let inflight = 0;
  let waiters: (() => void)[] = [];
  const done = (): void => {
    inflight--;
    if (inflight === 0) for (const w of waiters.splice(0)) w();
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<Recording> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === 'host' || DROP_HEADERS.has(k)) continue;
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      headers['content-length'] = String(body.length);
      const up = httpRequest(new URL(req.url ?? '/', upstream!), { method: req.method, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v === undefined || DROP_HEADERS.has(k)) continue;
            out[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(parts) });
        });
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const send = (res: ServerResponse, rec: Recording, upload: boolean): void => {
    if (upload) stats.uploadPackBytes += rec.body.length;
    res.writeHead(rec.status, { ...rec.headers, 'content-length': String(rec.body.length) });
    res.end(rec.body);
  };

  const server = createServer((req, res) => {
    inflight++;
    res.on('close', done);
    stats.requests++;
    const upload = req.method === 'POST' && (req.url ?? '').includes('/git-upload-pack');
    readBody(req)
      .then(async (body) => {
        if ((req.url ?? '').includes('/git-receive-pack')) stats.receivePackBytes += body.length;
        const key = requestKey(req.method ?? 'GET', req.url ?? '/', req.headers['git-protocol'] as string | undefined, body, req.headers['content-encoding']);
        if (upstream !== null) {
          const rec = await forward(req, body);
          if (rec.status === 200) store.set(key, rec);
          send(res, rec, upload);
          return;
        }
        const rec = store.get(key);
        if (rec === undefined) {
          stats.misses++;
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`no recording for ${req.method} ${req.url}\n`);
          return;
        }
        send(res, rec, upload);
      })
      .catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    name,
    url: (repo) => `http://127.0.0.1:${port}/${repo}.git`,
    cpuMs: () => null,
    peakRssKb: async () => null,
    resetPeak: async () => {},
    createRepo: async () => {
      throw new Error('the replay proxy cannot create repositories');
    },
    stats: async () => ({ ...stats }),
    resetStats: async () => {
      stats = emptyStats();
    },
    idle: () => (inflight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
    record: (origin) => {
      upstream = origin;
    },
    replay: () => {
      upstream = null;
    },
    size: () => {
      let bytes = 0;
      for (const rec of store.values()) bytes += rec.body.length;
      return { entries: store.size, bytes };
    },
    clear: () => {
      store.clear();
      waiters = [];
    },
  };
}
