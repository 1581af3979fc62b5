/**
 * Shared plumbing for the bench's server processes: traffic counters, the `/_bench/*`
 * control routes (stats, reset, idle, create) and spawning a server program as a child
 * process that reports its port on its first stdout line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emptyStats, type ServerStats } from '../../shared/server-types.js';

/** Root of the project (where node_modules and tsx live). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Counters plus an in-flight tracker that lets `/_bench/idle` wait for quiet. */
export class Traffic {
  stats: ServerStats = emptyStats();
  private inflight = 0;
  private waiters: (() => void)[] = [];

  /** Marks a unit of work (request or child process) as started. */
  begin(): void {
    this.inflight++;
  }

  /** Marks it as finished, waking idle waiters when nothing is left. */
  end(): void {
    this.inflight--;
    if (this.inflight <= 0) {
      this.inflight = 0;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Counts the request and response bodies of one Git request. */
  count(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    const upload = req.method === 'POST' && path.includes('/git-upload-pack');
    const receive = req.method === 'POST' && path.includes('/git-receive-pack');
    this.stats.requests++;
    if (receive) {
      // Count body bytes as the parser hands them over, without consuming the stream
      // (a 'data' listener here would switch it to flowing mode before the handler reads).
      const push = req.push.bind(req) as (chunk: unknown, encoding?: BufferEncoding) => boolean;
      req.push = ((chunk: unknown, encoding?: BufferEncoding) => {
        if (chunk instanceof Uint8Array) this.stats.receivePackBytes += chunk.byteLength;
        return push(chunk, encoding);
      }) as typeof req.push;
    }
    if (upload) {
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      const endFn = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
      const size = (c: unknown): number => (typeof c === 'string' ? Buffer.byteLength(c) : c instanceof Uint8Array ? c.byteLength : 0);
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.stats.uploadPackBytes += size(chunk);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== 'function') this.stats.uploadPackBytes += size(chunk);
        return endFn(chunk, ...rest);
      }) as typeof res.end;
    }
  }
}

/** Handles `/_bench/...` routes; returns false for any other path. */
export function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  traffic: Traffic,
  createRepo: (name: string) => Promise<void>,
  onReset: () => void = () => {},
): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  if (!url.pathname.startsWith('/_bench/')) return false;
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  switch (url.pathname) {
    case '/_bench/stats':
      reply(200, traffic.stats);
      break;
    case '/_bench/reset':
      traffic.stats = emptyStats();
      onReset();
      reply(200, {});
      break;
    case '/_bench/idle':
      void traffic.idle().then(() => reply(200, {}));
      break;
    case '/_bench/create': {
      const name = url.searchParams.get('repo') ?? '';
      if (!/^[A-Za-z0-9._-]+$/.test(name)) {
        reply(400, { error: 'bad repo name' });
        break;
      }
      createRepo(name).then(
        () => reply(200, {}),
        (e: unknown) => reply(500, { error: String((e as Error)?.stack ?? e) }),
      );
      break;
    }
    default:
      reply(404, { error: 'unknown control route' });
  }
  return true;
}

/** Makes a server program exit when the bench that started it is gone (no orphans). */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
}

/** A server program running as a child process. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The whole first line the program printed (e.g. `pids` of a cluster's workers). */
  info: Record<string, unknown>;
  /** Calls a `/_bench/...` route and returns its JSON. */
  control<T = unknown>(route: string): Promise<T>;
  /** How the process ended (exit code or signal, and its last stderr), or null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

/**
 * Spawns `node [...nodeArgs] --import tsx <script> ...args` (a compiled `.js` script without
 * tsx); the program must print `{"port":N}` (or `{"error":"..."}`) as its first stdout line.
 */
export async function spawnServer(script: string, args: readonly string[], timeoutMs = 30_000, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const loader = script.endsWith('.js') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, script, ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => {
    stderr.push(b.toString());
    if (stderr.length > 200) stderr.shift();
    if (process.env.BENCH_DEBUG) process.stderr.write(b);
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in ${timeoutMs} ms: ${stderr.join('')}`)), timeoutMs);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolveLine(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}): ${stderr.join('').slice(-3000)}`));
    });
  });
  lines.on('line', () => {}); // keep draining
  const msg = JSON.parse(first) as { port?: number; error?: string; [k: string]: unknown };
  if (msg.error !== undefined || msg.port === undefined) {
    child.kill();
    throw new Error(`${script}: ${msg.error ?? 'no port'}`);
  }
  const port = msg.port;
  const control = async <T>(route: string): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${port}/_bench/${route}`);
    const body = (await r.json()) as T & { error?: string };
    if (!r.ok) throw new Error(`/_bench/${route}: ${body.error ?? r.status}`);
    return body;
  };
  return {
    child,
    pid: child.pid!,
    port,
    info: msg,
    control,
    exited: () => {
      if (child.exitCode === null && child.signalCode === null) return null;
      const tail = stderr.join('').trim().split('\n').slice(-2).join(' | ');
      return `${child.signalCode ?? `exit ${child.exitCode}`}${tail ? `: ${tail.slice(-400)}` : ''}`;
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** The control-channel methods every spawned bench server shares. */
export function controlMethods(proc: ServerProcess) {
  return {
    createRepo: async (repo: string) => {
      await proc.control(`create?repo=${encodeURIComponent(repo)}`);
    },
    stats: () => proc.control<ServerStats>('stats'),
    resetStats: async () => {
      await proc.control('reset');
    },
    idle: async () => {
      await proc.control('idle');
    },
    stop: () => proc.stop(),
  };
}
