/**
 * Starts a real, throwaway PostgreSQL for the tests: a fresh cluster (initdb) in a temp
 * directory, listening on 127.0.0.1 at a free port only, stopped and removed by `stop()`.
 * The one place every PostgreSQL test gets its server from.
 *
 * The binaries come from `LEVEL_GIT_PG_BIN`, `pg_config --bindir`, Debian's
 * `/usr/lib/postgresql/<version>/bin`, or the PATH. PostgreSQL refuses to run as root, so as
 * root the cluster is created and run as the `postgres` system user (via `runuser`), in a
 * directory that user owns. When no PostgreSQL is found, tests skip loudly, except under
 * `CI=true`, where they fail (see `havePostgres`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  connectionString: string;
  port: number;
  /** Creates a fresh, empty database on this server and returns its connection string. */
  createDatabase(name: string): string;
  /** Stops the server (immediate shutdown) and removes its files. */
  stop(): void;
  /** Shuts the server down (fast: connections are cut) and keeps its files, for `restart`. */
  halt(): void;
  /** Starts a halted server again, on the same port and with the same data. */
  restart(): void;
}

/** Where the binaries are, and how to run them (as root: as the `postgres` user). */
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

function findBin(): string | undefined {
  const candidates: string[] = [];
  // An explicit directory is the only one tried (so a missing PostgreSQL can be simulated).
  if (process.env.LEVEL_GIT_PG_BIN) return [process.env.LEVEL_GIT_PG_BIN].find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
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
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

/** The PostgreSQL installation to use, or the reason there is none. */
export function findPostgres(): Install | { missing: string } {
  const bin = findBin();
  if (bin === undefined) return { missing: "no PostgreSQL binaries (initdb, pg_ctl) found: install Debian's `postgresql` package or set LEVEL_GIT_PG_BIN" };
  if (process.getuid?.() !== 0) return { bin };
  const uid = tryExec('id', ['-u', 'postgres']);
  const gid = tryExec('id', ['-g', 'postgres']);
  if (uid === undefined || gid === undefined) return { missing: 'running as root, and there is no `postgres` user to run PostgreSQL as' };
  return { bin, runAs: { user: 'postgres', uid: Number(uid), gid: Number(gid) } };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function run(install: Install, tool: string, args: string[]): void {
  const exe = join(install.bin, tool);
  const [cmd, argv] = install.runAs ? ['runuser', ['-u', install.runAs.user, '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

/** Starts a fresh PostgreSQL on 127.0.0.1 at a free port. */
export async function startPostgres(install: Install): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'level-git-pg-'));
  if (install.runAs) {
    chownSync(dir, install.runAs.uid, install.runAs.gid);
    chmodSync(dir, 0o700);
  }
  const data = join(dir, 'data');
  run(install, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  let lastError: unknown;
  // Another process may take the free port between probing and binding: retry on a new one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c shared_buffers=32MB',
    ].join(' ');
    try {
      run(install, 'pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    } catch (err) {
      lastError = new Error(`${(err as Error).message}\n${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
      continue;
    }
    const base = `postgres://postgres@127.0.0.1:${port}`;
    let halted = false;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      try {
        if (!halted) run(install, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // A test run that dies without its afterAll still takes its server down.
    process.once('exit', stop);
    return {
      connectionString: `${base}/postgres`,
      port,
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
        run(install, 'pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
        halted = false;
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** True when a PostgreSQL can be found (tests use it to choose `describe` or `describe.skip`). */
export function havePostgres(): boolean {
  const found = findPostgres();
  if ('missing' in found && process.env.CI) throw new Error(`PostgreSQL tests cannot run under CI: ${found.missing}`);
  if ('missing' in found) console.warn(`\n${'!'.repeat(80)}\n!! SKIPPED PostgreSQL tests: ${found.missing}\n${'!'.repeat(80)}\n`);
  return !('missing' in found);
}
