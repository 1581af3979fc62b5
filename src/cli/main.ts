#!/usr/bin/env node
/**
 * The `level-git` command:
 *   level-git serve [--data DIR | --db postgres://...] [--port N] [--host H] [--memory] [--public-key FILE]...
 *                   [--sweep-interval S] [--ephemeral-ttl S] [--base-url URL]
 *                   [--admin-key-file FILE] [--idle-timeout S] [--max-connections N]
 *                   [--allow-private-remotes] [--max-commit-bytes N] [--max-pack-objects N] [--full-packs] [--no-clone-plans] [--no-depth1-plans]
 *   level-git create-repo <name> [--default-branch B] [--url URL] [--admin-key K] [--data DIR]
 *   level-git remote-url <name> [--write] [--ttl S] [--ephemeral] [--url URL] [--admin-key K] [--data DIR]
 *   level-git import <name> <url> [--data DIR | --db URL] [--ref R] [--depth N] [--default-branch B]
 *                   [--progress | --no-progress] [--allow-private-remotes]
 * Environment: LEVEL_GIT_ADMIN_KEY, LEVEL_GIT_SECRET, LEVEL_GIT_PUBLIC_KEY (PEM),
 * LEVEL_GIT_PUBLIC_KEY_FILE, LEVEL_GIT_URL (operator commands), LEVEL_GIT_ALLOW_PRIVATE_REMOTES=1,
 * LEVEL_GIT_DATABASE_URL (as --db).
 */
// The Node platform (static node:crypto/node:zlib) before anything hashes: native on every Node 20.
import '../platform/use-node.js';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startServe } from './serve.js';
import { runImport } from './import.js';
import { showProgress } from './progress.js';

const USAGE = `usage:
  level-git serve [--data DIR | --db postgres://USER@HOST:PORT/DB] [--port N] [--host H] [--memory] [--public-key FILE]...
                  [--sweep-interval SECONDS] [--ephemeral-ttl SECONDS] [--base-url URL]
                  [--admin-key-file FILE] [--idle-timeout SECONDS] [--max-connections N]
                  [--allow-private-remotes] [--max-commit-bytes N] [--max-pack-objects N] [--full-packs] [--no-clone-plans] [--no-depth1-plans]
  level-git create-repo <name> [--default-branch B] [--url URL] [--admin-key KEY] [--data DIR]
  level-git remote-url <name> [--write] [--ttl SECONDS] [--ephemeral] [--url URL] [--admin-key KEY] [--data DIR]
  level-git import <name> <url> [--data DIR | --db postgres://...] [--ref R] [--depth N] [--default-branch B]
                   [--progress | --no-progress] [--allow-private-remotes]
      (opens the database itself: stop the server on DIR first; progress on stderr when it is a terminal)

environment: LEVEL_GIT_ADMIN_KEY, LEVEL_GIT_SECRET, LEVEL_GIT_PUBLIC_KEY, LEVEL_GIT_PUBLIC_KEY_FILE, LEVEL_GIT_URL,
             LEVEL_GIT_ALLOW_PRIVATE_REMOTES=1 (as --allow-private-remotes),
             LEVEL_GIT_DATABASE_URL (as --db)`;

class UsageError extends Error {}

function intOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      db: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      memory: { type: 'boolean' },
      'public-key': { type: 'string', multiple: true },
      'sweep-interval': { type: 'string' },
      'ephemeral-ttl': { type: 'string' },
      'base-url': { type: 'string' },
      'admin-key-file': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-connections': { type: 'string' },
      'allow-private-remotes': { type: 'boolean' },
      'max-commit-bytes': { type: 'string' },
      'max-pack-objects': { type: 'string' },
      'full-packs': { type: 'boolean' },
      'no-clone-plans': { type: 'boolean' },
      'no-depth1-plans': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = intOption(values.port, 'port', 0);
  if (port !== undefined && port > 65535) throw new UsageError('--port must be at most 65535');
  const publicKeys = (values['public-key'] ?? []).map((f) => readFileSync(f, 'utf8'));
  if (process.env.LEVEL_GIT_PUBLIC_KEY) publicKeys.push(process.env.LEVEL_GIT_PUBLIC_KEY);
  if (process.env.LEVEL_GIT_PUBLIC_KEY_FILE) publicKeys.push(readFileSync(process.env.LEVEL_GIT_PUBLIC_KEY_FILE, 'utf8'));
  const sweep = intOption(values['sweep-interval'], 'sweep-interval', 0);
  const ttl = intOption(values['ephemeral-ttl'], 'ephemeral-ttl', 1);
  const idle = intOption(values['idle-timeout'], 'idle-timeout', 0);
  const maxConnections = intOption(values['max-connections'], 'max-connections', 1);
  const database = values.db ?? (process.env.LEVEL_GIT_DATABASE_URL || undefined);
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) throw new UsageError('--db must be a postgres:// URL');
  const maxCommitBytes = intOption(values['max-commit-bytes'], 'max-commit-bytes', 1);
  const maxPackObjects = intOption(values['max-pack-objects'], 'max-pack-objects', 1);
  // Everything the server creates from here on (database files, key files) is the server user's alone.
  process.umask(0o077);

  const running = await startServe({
    ...(values.data !== undefined ? { data: values.data } : {}),
    memory: values.memory === true,
    ...(database !== undefined ? { database } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    publicKeys,
    ...(sweep !== undefined ? { sweepIntervalSeconds: sweep } : {}),
    ...(ttl !== undefined ? { ephemeralTtlSeconds: ttl } : {}),
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    ...(values['admin-key-file'] !== undefined ? { adminKeyFile: values['admin-key-file'] } : {}),
    ...(idle !== undefined ? { idleTimeoutSeconds: idle } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    // Imports, mirrors and webhooks may reach loopback and private addresses (docs/security.md).
    allowPrivateRemotes: values['allow-private-remotes'] === true || process.env.LEVEL_GIT_ALLOW_PRIVATE_REMOTES === '1',
    ...(maxCommitBytes !== undefined ? { maxCommitBytes } : {}),
    ...(maxPackObjects !== undefined ? { maxPackObjects } : {}),
    fullPacks: values['full-packs'] === true,
    ...(values['no-clone-plans'] === true ? { clonePlans: false } : {}),
    ...(values['no-depth1-plans'] === true ? { depth1Plans: false } : {}),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight requests\n`);
    running.close().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function adminKeyFrom(values: { 'admin-key'?: string; data?: string }): string {
  if (values['admin-key']) return values['admin-key'];
  if (process.env.LEVEL_GIT_ADMIN_KEY) return process.env.LEVEL_GIT_ADMIN_KEY;
  const file = join(resolve(values.data ?? './data'), 'admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new UsageError("no admin key: pass --admin-key, set LEVEL_GIT_ADMIN_KEY, or point --data at the server's data folder");
}

async function callApi(url: string, adminKey: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(`/api/v1${path}`, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`server answered ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const e = value.error as { code?: string; message?: string } | undefined;
    throw new Error(`server answered ${res.status} ${e?.code ?? ''}: ${e?.message ?? text.slice(0, 200)}`);
  }
  return value;
}

const CLIENT_OPTIONS = {
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  data: { type: 'string' },
} as const;

async function createRepo(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CLIENT_OPTIONS, 'default-branch': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('create-repo needs exactly one repository name');
  const url = values.url ?? process.env.LEVEL_GIT_URL ?? 'http://127.0.0.1:8080';
  const r = await callApi(url, adminKeyFrom(values), '/repos', {
    name: positionals[0],
    ...(values['default-branch'] ? { defaultBranch: values['default-branch'] } : {}),
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}

async function remoteUrl(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CLIENT_OPTIONS, write: { type: 'boolean' }, ttl: { type: 'string' }, ephemeral: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('remote-url needs exactly one repository name');
  const url = values.url ?? process.env.LEVEL_GIT_URL ?? 'http://127.0.0.1:8080';
  const ttl = intOption(values.ttl, 'ttl', 1);
  const r = await callApi(url, adminKeyFrom(values), `/repos/${encodeURIComponent(positionals[0]!)}/remote-url`, {
    permissions: values.write ? ['git:read', 'git:write'] : ['git:read'],
    ...(ttl !== undefined ? { ttl } : {}),
    ...(values.ephemeral ? { ephemeral: true } : {}),
  });
  process.stdout.write(`${String(r.url)}\n`);
}

async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      db: { type: 'string' },
      ref: { type: 'string' },
      depth: { type: 'string' },
      'default-branch': { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      'allow-private-remotes': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 2) throw new UsageError('import needs a repository name and a URL');
  const database = values.db ?? (process.env.LEVEL_GIT_DATABASE_URL || undefined);
  if (database !== undefined && values.data !== undefined) throw new UsageError('--db keeps everything in the database: drop --data');
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) throw new UsageError('--db must be a postgres:// URL');
  const depth = intOption(values.depth, 'depth', 1);
  const tty = process.stderr.isTTY === true;
  const show = showProgress(values['no-progress'] ? false : values.progress, tty);
  const summary = await runImport({
    name: positionals[0]!,
    url: positionals[1]!,
    ...(database !== undefined ? { database } : { data: values.data ?? './data' }),
    ...(values.ref !== undefined ? { ref: values.ref } : {}),
    ...(depth !== undefined ? { depth } : {}),
    ...(values['default-branch'] !== undefined ? { defaultBranch: values['default-branch'] } : {}),
    allowPrivateRemotes: values['allow-private-remotes'] === true || process.env.LEVEL_GIT_ALLOW_PRIVATE_REMOTES === '1',
    ...(show ? { progress: { write: (s: string) => process.stderr.write(s), tty } } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(JSON.stringify(summary) + '\n');
}

/** Runs the command line; resolves when a one-shot command is done (serve keeps running). */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'create-repo':
      return createRepo(rest);
    case 'remote-url':
      return remoteUrl(rest);
    case 'import':
      return importCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      if (command === undefined) process.exitCode = 2;
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`level-git: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`level-git: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
