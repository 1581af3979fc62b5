/**
 * Runs `git` (and other commands) as child processes with a clean, isolated configuration,
 * and times them with a monotonic clock.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a finished command left behind. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

let gitHome: string | undefined;

/** A HOME with a minimal .gitconfig, so the user's own config never changes the numbers. */
export function benchGitHome(): string {
  if (gitHome === undefined) {
    const home = mkdtempSync(join(tmpdir(), 'level-git-bench-home-'));
    gitHome = home;
    process.on('exit', () => rmSync(home, { recursive: true, force: true }));
    writeFileSync(
      join(gitHome, '.gitconfig'),
      [
        '[user]',
        '\tname = Bench',
        '\temail = bench@example.com',
        '[init]',
        '\tdefaultBranch = main',
        '[advice]',
        '\tdetachedHead = false',
        '[gc]',
        '\tauto = 0',
        '[maintenance]',
        '\tauto = false',
        '[protocol]',
        '\tversion = 2',
        '[core]',
        '\tfsync = none',
        '',
      ].join('\n'),
    );
  }
  return gitHome;
}

/** Removes the bench HOME now (it is also removed when the process exits normally). */
export function removeBenchGitHome(): void {
  if (gitHome !== undefined) rmSync(gitHome, { recursive: true, force: true });
  gitHome = undefined;
}

/** Environment for every git the suite runs. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: benchGitHome(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    LC_ALL: 'C',
    ...extra,
  };
}

/** Runs a command to completion, collecting its output; never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: SpawnOptions & { input?: string | Uint8Array } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Number(process.hrtime.bigint() - start) / 1e6,
      });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs git with the bench environment; `extraEnv` is added to it. */
export function git(args: readonly string[], cwd?: string, extraEnv: Record<string, string> = {}, input?: string | Uint8Array): Promise<RunResult> {
  return run('git', args, { cwd, env: gitEnv(extraEnv), input });
}

/** Runs git and throws with its stderr when it fails; returns trimmed stdout. */
export async function gitOk(args: readonly string[], cwd?: string, extraEnv: Record<string, string> = {}, input?: string | Uint8Array): Promise<string> {
  const r = await git(args, cwd, extraEnv, input);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr.trim().slice(-2000)}`);
  return r.stdout.trim();
}

/** Directory for clones: /dev/shm when present (tmpfs: no ext4 write cost), else the OS temp dir. */
export function cloneRoot(): string {
  return mkdtempSync(join(existsShm() ? '/dev/shm' : tmpdir(), 'level-git-bench-clone-'));
}

function existsShm(): boolean {
  try {
    mkdirSync('/dev/shm', { recursive: true });
    return process.platform === 'linux';
  } catch {
    return false;
  }
}
