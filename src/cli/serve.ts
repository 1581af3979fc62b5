/**
 * `level-git serve`: opens (or creates) a data folder, keeps the admin key and the token
 * signing secret in it, serves the JSON API and Git smart HTTP, sweeps expired ephemeral refs
 * periodically, and shuts down cleanly (in-flight requests finish, the database closes).
 *
 * Data folder layout (folders 0700, files 0600, narrowed on every start: data-folder.ts):
 *   <data>/db/         the embedded database (classic-level)
 *   <data>/admin-key   the admin API key (generated on first start unless LEVEL_GIT_ADMIN_KEY)
 *   <data>/secret      the HS256 token signing secret (generated unless LEVEL_GIT_SECRET)
 *
 * A generated admin key is never printed: the path of the 0600 file holding it is (with
 * `--memory`, a fresh file in the temporary folder, removed when the server stops).
 *
 * With `database` (`--db postgres://...`, or LEVEL_GIT_DATABASE_URL) there is no data folder:
 * the repositories live in PostgreSQL, ref transactions are serialized by a PostgresRefLock, the
 * sweep is coordinated through the database, and the token signing secret is kept in the
 * database (created by the first process to start), so any number of processes with the same
 * URL and the same admin key serve as one (docs/scale-out.md).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyLevel } from '../storage/kv.js';
import { openEngine, type Engine } from '../engine.js';
import { createTokenService, type TokenService } from '../access/tokens.js';
import { createServer } from '../http/node-server.js';
import { secureDataFolder, writeSecretFile } from './data-folder.js';
import { enableRemotes } from '../webhooks/enable.js';
import type { RefLock } from '../refs/lock.js';
import { Kv, VIEW_DEFAULTS } from '../storage/kv.js';
import { sharedSetting } from '../storage/settings.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';

/** Options of `startServe`. */
export interface ServeOptions {
  /** Data folder (ignored with `memory`). Default `./data`. */
  data?: string;
  /** Keep everything in memory (nothing survives a restart). */
  memory?: boolean;
  /** `postgres://user:password@host:port/database`: keep everything there, shared with other processes (no data folder). */
  database?: string;
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
  /** Base URL written into remote URLs (default: each request's origin, from its Host header: a warning says so). */
  baseUrl?: string;
  /** Where a generated admin key is written (mode 0600). Default `<data>/admin-key`; with `memory` a new file in the temporary folder. */
  adminKeyFile?: string;
  /** Longest silence while it is the peer's turn (see http/node-server.ts), seconds; 0 turns it off. Default 60. */
  idleTimeoutSeconds?: number;
  /** Most connections at once (`server.maxConnections`). Default: no cap. */
  maxConnections?: number;
  /** Lets imports, mirrors and webhooks reach loopback, private and link-local addresses. Default false. */
  allowPrivateRemotes?: boolean;
  /** Most content bytes of one API commit (JSON or NDJSON). Default 32 MiB. */
  maxCommitBytes?: number;
  /** Most objects one fetch's or clone's pack plan holds (upload-pack `maxPackObjects`). Default 1,000,000. */
  maxPackObjects?: number;
  /** Stores full-clone packs of long histories (`packCache.fullPacks`). Default false. */
  fullPacks?: boolean;
  /** Stores clone plans of long histories (`packCache.clonePlans`). Default: the engine's (on). */
  clonePlans?: boolean;
  /** Stores depth-1 plans of big tips (`packCache.depth1Plans`). Default: the engine's (on). */
  depth1Plans?: boolean;
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
  /** The file holding a generated admin key, when one was generated. */
  adminKeyFile?: string;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), closes the database. */
  close(graceMs?: number): Promise<void>;
}

/**
 * A fresh secret: 256 random bits in hex. Not base64url: one key in 32 would begin with `-`,
 * which `--admin-key KEY` cannot take (the argument parser reads it as an option).
 */
export function generated(): string {
  return randomBytes(32).toString('hex');
}

/** Reads a secret file, or creates it with a fresh random value (mode 0600); `created` tells which. */
function keptSecret(file: string): { value: string; created: boolean } {
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length > 0) return { value, created: false };
  }
  const value = generated();
  writeSecretFile(file, value);
  return { value, created: true };
}

/** Checks `--base-url`: an http(s) URL without credentials, query or fragment. */
function checkBaseUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`--base-url ${JSON.stringify(value)} is not a URL`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash) {
    throw new Error('--base-url must be an http(s) URL without credentials, query or fragment');
  }
  return value.replace(/\/+$/, '');
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
  const baseUrl = options.baseUrl === undefined ? undefined : checkBaseUrl(options.baseUrl);
  let keyFile: string | undefined;
  let tempKeyDir: string | undefined;
  let lock: (RefLock & { close(): Promise<void> }) | undefined;
  if (options.database !== undefined) {
    if (options.memory || options.data !== undefined) throw new Error('--db keeps everything in the database: drop --data and --memory');
    if (adminKey === undefined && options.adminKeyFile !== undefined && existsSync(options.adminKeyFile)) {
      adminKey = readFileSync(options.adminKeyFile, 'utf8').trim();
    }
    // Every process must accept the same key: a generated one would differ per process.
    if (adminKey === undefined) throw new Error('--db needs the admin key every process shares: set LEVEL_GIT_ADMIN_KEY or --admin-key-file FILE');
    const { createPostgresLevel, PostgresRefLock } = await import('../postgres/index.js');
    db = createPostgresLevel({ connectionString: options.database }) as unknown as AnyLevel;
    lock = new PostgresRefLock({ connectionString: options.database });
  } else if (options.memory) {
    const { MemoryLevel } = await import('memory-level');
    db = new MemoryLevel() as unknown as AnyLevel;
    if (adminKey === undefined) {
      adminKey = generated();
      if (options.adminKeyFile === undefined) tempKeyDir = mkdtempSync(join(tmpdir(), 'level-git-'));
      keyFile = resolve(options.adminKeyFile ?? join(tempKeyDir!, 'admin-key'));
      writeSecretFile(keyFile, adminKey);
    }
    secret ??= generated();
  } else {
    const dir = resolve(options.data ?? './data');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const w of secureDataFolder(dir)) logError(w);
    if (adminKey === undefined) {
      const file = resolve(options.adminKeyFile ?? join(dir, 'admin-key'));
      if (options.adminKeyFile !== undefined) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const k = keptSecret(file);
      adminKey = k.value;
      if (k.created) keyFile = file;
    }
    if (secret === undefined) secret = keptSecret(join(dir, 'secret')).value;
    const { Level } = await import('level');
    db = new Level(join(dir, 'db'), VIEW_DEFAULTS) as unknown as AnyLevel;
  }
  if (adminKey.length < 16) throw new Error('the admin key must have at least 16 characters');

  await db.open();
  // The database's own files, created by the open above (older versions left them 0644).
  if (!options.memory && lock === undefined) for (const w of secureDataFolder(join(resolve(options.data ?? './data'), 'db'))) logError(w);
  // One secret for every process over the database: the first to start creates it.
  secret ??= fromUtf8(await sharedSetting(new Kv(db), lock!, 'token-secret', () => utf8(generated())));
  enableRemotes(); // imports, mirrors and webhooks
  const engine = await openEngine({
    db,
    ...(lock !== undefined ? { lock, coordination: 'database' as const } : {}),
    ...(options.ephemeralTtlSeconds !== undefined ? { ephemeralTtlSeconds: options.ephemeralTtlSeconds } : {}),
    allowPrivateRemotes: options.allowPrivateRemotes === true,
    packCache: {
      ...(options.fullPacks === true ? { fullPacks: true } : {}),
      ...(options.clonePlans !== undefined ? { clonePlans: options.clonePlans } : {}),
      ...(options.depth1Plans !== undefined ? { depth1Plans: options.depth1Plans } : {}),
    },
  });
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
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(options.idleTimeoutSeconds !== undefined ? { idleTimeoutMs: options.idleTimeoutSeconds * 1000 } : {}),
    ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
    ...(options.maxCommitBytes !== undefined ? { maxCommitBytes: options.maxCommitBytes } : {}),
    ...(options.maxPackObjects !== undefined ? { gitLimits: { uploadPack: { maxPackObjects: options.maxPackObjects } } } : {}),
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

  if (keyFile !== undefined) log(`admin key written to ${keyFile} (mode 0600)`);
  if (baseUrl === undefined) {
    // Whoever can reach the server chooses the Host header: a remote URL minted for a request
    // names whatever host that request claimed (behind a proxy: whatever the proxy passes on).
    logError('warning: no --base-url: remote URLs are built from the Host header of each request; set --base-url to the address clients use');
  }
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
      await lock?.close();
      if (tempKeyDir !== undefined) rmSync(tempKeyDir, { recursive: true, force: true });
    })());

  return { server, engine, tokens, url, adminKey, ...(keyFile !== undefined ? { adminKeyFile: keyFile } : {}), close };
}
