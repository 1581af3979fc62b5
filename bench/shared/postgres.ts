/**
 * A real, throwaway PostgreSQL: a fresh cluster (initdb) in a temp directory, listening on
 * 127.0.0.1 at a free port only, stopped and removed by `stop()` (and when the process exits).
 * The one recipe behind both `npm run bench -- --db postgres` and every PostgreSQL test
 * (test/postgres/server.ts adds the skip-or-fail rule on top).
 *
 * The binaries come from `LEVEL_GIT_PG_BIN` (then the only directory tried, so a missing
 * PostgreSQL can be simulated), `pg_config --bindir`, Debian's `/usr/lib/postgresql/<version>/bin`,
 * or the PATH. PostgreSQL refuses to run as root, so as root the cluster is created and run as
 * the `postgres` system user (via `runuser`), in a directory that user owns.
 *
 * Settings: `fsync=off` and `full_page_writes=off`, as the on-disk default (classic-level)
 * writes without syncing; the engines then pay for their work, not for the disk's flushes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running cluster. */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  connectionString: string;
  port: number;
  /** The server's major version, e.g. `15`. */
  version: string;
  /** CPU ms this server has used so far: the postmaster, its live backends and those it reaped (monotonic). */
  cpuMs(): number;
  /** Creates a fresh, empty database on this server and returns its connection string. */
  createDatabase(name: string): string;
  /** Stops the server (immediate shutdown) and removes its files. */
  stop(): void;
  /** Shuts the server down (fast: connections are cut) and keeps its files, for `restart`. */
  halt(): void;
  /** Starts a halted server again, on the same port and with the same data. */
  restart(): void;
}

/** The bench's name for a running cluster. */
export type BenchPostgres = PostgresCluster;

/** Where the binaries are, and how to run them (as root: as the `postgres` user). */
export interface PostgresInstall {
  bin: string;
  runAs?: { user: string; uid: number; gid: number };
}

/** Server settings that differ between the tests and the bench. */
export interface ClusterSettings {
  maxConnections: number;
  sharedBuffers: string;
}

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function hasTools(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
}

function findBin(): string | undefined {
  if (process.env.LEVEL_GIT_PG_BIN) return [process.env.LEVEL_GIT_PG_BIN].find(hasTools);
  const candidates: string[] = [];
  const fromConfig = tryExec('pg_config', ['--bindir']);
  if (fromConfig) candidates.push(fromConfig);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin'));
  }
  const onPath = tryExec('sh', ['-c', 'command -v initdb']);
  if (onPath) candidates.push(onPath.replace(/\/initdb$/, ''));
  return candidates.find(hasTools);
}

/** The PostgreSQL installation to use, or the reason there is none. */
export function findPostgres(): PostgresInstall | { missing: string } {
  const bin = findBin();
  if (bin === undefined) return { missing: "no PostgreSQL binaries (initdb, pg_ctl) found: install Debian's `postgresql` package or set LEVEL_GIT_PG_BIN" };
  if (process.getuid?.() !== 0) return { bin };
  const uid = tryExec('id', ['-u', 'postgres']);
  const gid = tryExec('id', ['-g', 'postgres']);
  if (uid === undefined || gid === undefined) return { missing: 'running as root, and there is no `postgres` user to run PostgreSQL as' };
  return { bin, runAs: { user: 'postgres', uid: Number(uid), gid: Number(gid) } };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function run(install: PostgresInstall, tool: string, args: string[]): void {
  const exe = join(install.bin, tool);
  const [cmd, argv] = install.runAs ? ['runuser', ['-u', install.runAs.user, '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

/** Self and reaped children's CPU of a process, ms (from /proc/<pid>/stat; 0 when gone). */
function cpuOf(pid: number): { self: number; children: number; ppid: number } {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const tick = 10; // USER_HZ is 100 on Linux
    return { self: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick, ppid: Number(f[1]) };
  } catch {
    return { self: 0, children: 0, ppid: 0 };
  }
}

/** The postmaster's own CPU, its reaped backends' and its live children's. */
function serverCpuMs(postmaster: number): number {
  const main = cpuOf(postmaster);
  let sum = main.self + main.children;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === postmaster) continue;
    const c = cpuOf(Number(d));
    if (c.ppid === postmaster) sum += c.self;
  }
  return sum;
}

/** Starts a fresh PostgreSQL on 127.0.0.1 at a free port. */
export async function startPostgres(
  install: PostgresInstall,
  settings: ClusterSettings = { maxConnections: 200, sharedBuffers: '32MB' },
): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'level-git-pg-'));
  if (install.runAs) {
    chownSync(dir, install.runAs.uid, install.runAs.gid);
    chmodSync(dir, 0o700);
  }
  const data = join(dir, 'data');
  run(install, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const version = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
  let lastError: unknown;
  // Another process may take the free port between probing and binding: retry on a new one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const flags = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      `-c max_connections=${settings.maxConnections}`,
      `-c shared_buffers=${settings.sharedBuffers}`,
    ].join(' ');
    const start = (): void => run(install, 'pg_ctl', ['-D', data, '-o', flags, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    try {
      start();
    } catch (err) {
      lastError = new Error(`${(err as Error).message}\n${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
      continue;
    }
    const base = `postgres://postgres@127.0.0.1:${port}`;
    const postmasterPid = (): number => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let postmaster = postmasterPid();
    let halted = false;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      try {
        if (!halted) run(install, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // A run that dies without its cleanup still takes its server down.
    process.once('exit', stop);
    return {
      connectionString: `${base}/postgres`,
      port,
      version,
      cpuMs: () => serverCpuMs(postmaster),
      createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
        run(install, 'psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qAtc', `CREATE DATABASE ${name}`]);
        return `${base}/${name}`;
      },
      stop,
      halt() {
        run(install, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        halted = true;
      },
      restart() {
        start();
        halted = false;
        postmaster = postmasterPid();
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** The bench's cluster: more connections and buffers; throws when no PostgreSQL is installed. */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const install = findPostgres();
  if ('missing' in install) throw new Error(install.missing);
  const cluster = await startPostgres(install, { maxConnections: 300, sharedBuffers: '128MB' });
  // An interrupted bench (Ctrl-C, kill) takes its server down too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  return cluster;
}
