/**
 * The one way tests run the git binary (full tier only; the unit tier refuses child
 * processes). Synchronous `git`/`gitText` for building fixtures, asynchronous `runGit` for
 * clients talking to a test server (a synchronous call would block the server in-process).
 */
import { execFileSync, spawn } from 'node:child_process';

/** Environment that makes git deterministic (fixed identity and dates) and ignores the user's configuration. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Pack Test',
  GIT_AUTHOR_EMAIL: 'pack@example.com',
  GIT_AUTHOR_DATE: '1700000000 +0000',
  GIT_COMMITTER_NAME: 'Pack Test',
  GIT_COMMITTER_EMAIL: 'pack@example.com',
  GIT_COMMITTER_DATE: '1700000000 +0000',
  GIT_TERMINAL_PROMPT: '0',
};

/** Environment of a git client with its own HOME and no user or system configuration (dates are real). */
export function gitEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** Runs git in `cwd` (undefined: the current directory), returning stdout as bytes; throws on a non-zero exit. */
export function git(cwd: string | undefined, args: readonly string[], input?: Uint8Array | string, env: NodeJS.ProcessEnv = GIT_ENV): Buffer {
  return execFileSync('git', args, { cwd, env, input: input ?? '', maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs git and returns trimmed stdout text. */
export function gitText(cwd: string | undefined, args: readonly string[], input?: Uint8Array | string, env?: NodeJS.ProcessEnv): string {
  return git(cwd, args, input, env).toString('utf8').trim();
}

/** Options of `runGit`. */
export interface RunGitOptions {
  cwd?: string;
  input?: Uint8Array | string | AsyncIterable<Uint8Array>;
  /** Added to the environment. */
  env?: Record<string, string | undefined>;
  /** Start from this process's environment (default true); false: `env` is the whole environment. */
  inheritEnv?: boolean;
  /** Kill git after this many milliseconds. */
  timeoutMs?: number;
}

/** Runs git asynchronously; resolves with stdout, stderr and the exit code (it never rejects on a non-zero exit). */
export function runGit(args: readonly string[], opts: RunGitOptions = {}): Promise<{ stdout: Buffer; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...(opts.inheritEnv === false ? {} : process.env), GIT_TERMINAL_PROMPT: '0', ...opts.env };
    const child = spawn('git', args, { cwd: opts.cwd, env, timeout: opts.timeoutMs });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code: code ?? -1 }));
    child.stdin.on('error', () => undefined);
    const input = opts.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || input instanceof Uint8Array) child.stdin.end(input);
    else
      (async () => {
        for await (const chunk of input) if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
        child.stdin.end();
      })().catch(() => child.stdin.destroy());
  });
}

/** Like runGit but throws on a non-zero exit and returns trimmed stdout text. */
export async function gitOk(args: readonly string[], opts: RunGitOptions = {}): Promise<string> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.toString().trim();
}

/** A git client bound to an isolated HOME (`gitEnv`): `run` reports, `ok` throws on failure. */
export function gitRunner(home: string) {
  const env = gitEnv(home);
  const run = (args: string[], cwd?: string, extraEnv: Record<string, string> = {}) => runGit(args, { cwd, env: { ...env, ...extraEnv } });
  const ok = async (args: string[], cwd?: string, extraEnv: Record<string, string> = {}) => {
    const r = await run(args, cwd, extraEnv);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r.stdout.toString().trim();
  };
  return { run, ok };
}
