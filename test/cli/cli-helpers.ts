/** Helpers for end-to-end tests: start `level-git serve` as a child process, run CLI commands and git. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gitEnv, runGit } from '../helpers/git.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** A running `level-git serve`. */
export interface ServeProcess {
  url: string;
  /** Everything printed so far. */
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  child: ChildProcess;
}

/** The admin key `serve` generated: it writes the key to a 0600 file and prints the file's path. */
export function generatedAdminKey(server: ServeProcess): string {
  return readFileSync(/admin key written to (\S+)/.exec(server.output())![1]!, 'utf8').trim();
}

/** A POST of JSON to the server's API as admin: `api('/repos', { name })`. */
export function adminApi(server: ServeProcess, adminKey: string): (path: string, body: unknown) => Promise<Response> {
  return (path, body) =>
    fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
}

/** Spawns `node --import tsx src/cli/main.ts serve ...args` and waits for its "listening on" line. */
export function startCli(args: string[], env: Record<string, string> = {}, startTimeoutMs = 20_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, LEVEL_GIT_ADMIN_KEY: '', LEVEL_GIT_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${out}`));
    }, startTimeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          output: () => out,
          child,
          async stop(signal = 'SIGTERM', graceMs = 15_000) {
            if (child.exitCode !== null) return child.exitCode;
            child.kill(signal);
            const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
            const code = await exited;
            clearTimeout(t);
            return code;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

/** Collects a child's output; resolves with its exit code when it closes. */
function output(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr })));
}

/** Runs a one-shot CLI command; resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LEVEL_GIT_ADMIN_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return output(child);
}

/** Runs git with no prompts, no credential helper and an isolated configuration (only PATH is inherited). */
export async function git(
  args: string[],
  options: { cwd?: string; home: string; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runGit(['-c', 'credential.helper=', '-c', 'protocol.version=2', ...args], {
    cwd: options.cwd,
    inheritEnv: false,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...gitEnv(options.home),
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      ...options.env,
    },
  });
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
}
