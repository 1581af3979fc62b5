/**
 * A throwaway PostgreSQL for `npm run bench -- --db postgres`: a fresh cluster (initdb) in a
 * temp directory, on 127.0.0.1 at a free port, stopped and removed by `stop()` (and when the
 * bench process exits). The same recipe as test/postgres/server.ts (the bench imports nothing
 * from test/): binaries from `LEVEL_GIT_PG_BIN`, `pg_config --bindir`, Debian's
 * `/usr/lib/postgresql/<version>/bin` or the PATH; as root, run as the `postgres` user.
 *
 * Settings: `fsync=off` and `full_page_writes=off`, as the on-disk default (classic-level)
 * writes without syncing; both engines then pay for their work, not for the disk's flushes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running bench server. */
export interface BenchPostgres {
  port: number;
  /** The server's major version, e.g. `15`. */
  version: string;
  /** CPU ms this server has used so far: the postmaster, its live backends and those it reaped (monotonic). */
  cpuMs(): number;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): string;
  stop(): void;
}

interface Install {
  bin: string;
  runAs?: { user: string; uid: number; gid: number };
}

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function findInstall(): Install {
  const candidates: string[] = [];
  if (process.env.LEVEL_GIT_PG_BIN) candidates.push(process.env.LEVEL_GIT_PG_BIN);
  const fromConfig = tryExec('pg_config', ['--bindir']);
  if (fromConfig) candidates.push(fromConfig);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a)))
      candidates.push(join(debian, v, 'bin'));
  }
  const onPath = tryExec('sh', ['-c', 'command -v initdb']);
  if (onPath) candidates.push(onPath.replace(/\/initdb$/, ''));
  const bin = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (bin === undefined) throw new Error("no PostgreSQL binaries (initdb, pg_ctl): install Debian's `postgresql` package or set LEVEL_GIT_PG_BIN");
  if (process.getuid?.() !== 0) return { bin };
  const uid = tryExec('id', ['-u', 'postgres']);
  const gid = tryExec('id', ['-g', 'postgres']);
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as');
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

function run(install: Install, tool: string, args: string[]): string {
  const exe = join(install.bin, tool);
  const [cmd, argv] = install.runAs ? ['runuser', ['-u', install.runAs.user, '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
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

/** Starts a fresh PostgreSQL on 127.0.0.1 at a free port (throws when none is installed). */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const install = findInstall();
  const dir = mkdtempSync(join(tmpdir(), 'level-git-bench-pg-'));
  if (install.runAs) {
    chownSync(dir, install.runAs.uid, install.runAs.gid);
    chmodSync(dir, 0o700);
  }
  const data = join(dir, 'data');
  run(install, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const version = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
      '-c shared_buffers=128MB',
    ].join(' ');
    try {
      run(install, 'pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    } catch (err) {
      lastError = new Error(`${(err as Error).message}\n${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
      continue;
    }
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      try {
        run(install, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    process.once('exit', stop);
    // An interrupted bench (Ctrl-C, kill) takes its server down too.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return {
      port,
      version,
      cpuMs: () => serverCpuMs(postmaster),
      createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
        run(install, 'psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qAtc', `CREATE DATABASE ${name}`]);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      stop,
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}
