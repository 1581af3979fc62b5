/**
 * `level-git serve`: opens (or creates) a data folder, keeps the admin key and the token
 * signing secret in it, serves the JSON API and Git smart HTTP, sweeps expired ephemeral refs
 * periodically, and shuts down cleanly (in-flight requests finish, the database closes).
 *
 * Data folder layout:
 *   <data>/db/         the embedded database (classic-level)
 *   <data>/admin-key   the admin API key (generated on first start unless LEVEL_GIT_ADMIN_KEY)
 *   <data>/secret      the HS256 token signing secret (generated unless LEVEL_GIT_SECRET)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyLevel } from '../storage/kv.js';
import { openEngine, type Engine } from '../engine.js';
import { createTokenService, type TokenService } from '../access/tokens.js';
import { createServer } from '../http/node-server.js';

/** Options of `startServe`. */
export interface ServeOptions {
  /** Data folder (ignored with `memory`). Default `./data`. */
  data?: string;
  /** Keep everything in memory (nothing survives a restart). */
  memory?: boolean;
  port?: number;
  host?: string;
  /** Admin key; default LEVEL_GIT_ADMIN_KEY, else the one kept in the data folder (generated once). */
  adminKey?: string;
  /** HS256 signing secret; default LEVEL_GIT_SECRET, else kept in the data folder (generated once). */
  secret?: string;
  /** PEM (SPKI) public keys of external token minters (ES256 / EdDSA). */
  publicKeys?: string[];
  /** Seconds between sweeps of expired ephemeral refs; 0 disables. Default 60. */
  sweepIntervalSeconds?: number;
  /** Default lifetime of ephemeral refs, seconds (engine default 24 h). */
  ephemeralTtlSeconds?: number;
  /** Base URL written into remote URLs (default: each request's origin). */
  baseUrl?: string;
  /** Where messages go (default stdout / stderr). */
  log?: (line: string) => void;
  logError?: (line: string) => void;
}

/** A running server. */
export interface RunningServe {
  server: Server;
  engine: Engine;
  tokens: TokenService;
  url: string;
  adminKey: string;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), closes the database. */
  close(graceMs?: number): Promise<void>;
}

function generated(): string {
  return randomBytes(32).toString('base64url');
}

/** Reads a secret file, or creates it with a fresh random value (mode 0600); `created` tells which. */
function keptSecret(file: string): { value: string; created: boolean } {
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length > 0) return { value, created: false };
  }
  const value = generated();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return { value, created: true };
}

/** Starts the server; resolves once it listens. */
export async function startServe(options: ServeOptions = {}): Promise<RunningServe> {
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const logError = options.logError ?? ((l: string) => process.stderr.write(l + '\n'));
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;

  let db: AnyLevel;
  let adminKey = options.adminKey ?? (process.env.LEVEL_GIT_ADMIN_KEY || undefined);
  let secret = options.secret ?? (process.env.LEVEL_GIT_SECRET || undefined);
  let announceKey = false;
  if (options.memory) {
    const { MemoryLevel } = await import('memory-level');
    db = new MemoryLevel() as unknown as AnyLevel;
    if (adminKey === undefined) {
      adminKey = generated();
      announceKey = true;
    }
    secret ??= generated();
  } else {
    const dir = resolve(options.data ?? './data');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (adminKey === undefined) {
      const k = keptSecret(join(dir, 'admin-key'));
      adminKey = k.value;
      announceKey = k.created;
    }
    if (secret === undefined) secret = keptSecret(join(dir, 'secret')).value;
    const { Level } = await import('level');
    db = new Level(join(dir, 'db')) as unknown as AnyLevel;
  }
  if (adminKey.length < 16) throw new Error('the admin key must have at least 16 characters');

  await db.open();
  const engine = await openEngine({ db, ...(options.ephemeralTtlSeconds !== undefined ? { ephemeralTtlSeconds: options.ephemeralTtlSeconds } : {}) });
  const tokens = createTokenService({ keys: { secret, ...(options.publicKeys && options.publicKeys.length > 0 ? { publicKeys: options.publicKeys } : {}) } });
  // Fail at start, not on the first request, when a key is unusable.
  await tokens.verify('x.y.z').catch((err: { code?: string }) => {
    if (err?.code !== 'ERR_UNAUTHORIZED') throw err;
  });

  const onError = (err: unknown) => logError(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  const server = createServer({
    engine,
    tokens,
    adminKey,
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    onError,
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;

  const interval = options.sweepIntervalSeconds ?? 60;
  let sweeping = false;
  const timer =
    interval > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          engine
            .sweep({ onError: (err, repo) => logError(`sweep of ${repo} failed: ${err instanceof Error ? err.message : String(err)}`) })
            .catch((err: unknown) => onError(err))
            .finally(() => (sweeping = false));
        }, interval * 1000)
      : undefined;
  timer?.unref();

  if (announceKey) log(`admin key: ${adminKey}${options.memory ? '' : ' (kept in the data folder; shown only this once)'}`);
  log(`listening on ${url}`);

  let closing: Promise<void> | null = null;
  const close = (graceMs = 10_000): Promise<void> =>
    (closing ??= (async () => {
      if (timer) clearInterval(timer);
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Keep-alive connections become idle as their requests finish: close them as they do.
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearInterval(idle);
      clearTimeout(force);
      // Stops a running sweep (it deletes nothing it has not finished marking) and waits only for it to leave.
      await engine.close();
      await db.close();
    })());

  return { server, engine, tokens, url, adminKey, close };
}
