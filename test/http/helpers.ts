/** Test helpers: temp dirs, a local HTTP server on 127.0.0.1:0, git with an isolated config. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runGit } from '../protocol/fake-backend.js';

/** A temp dir registry; `cleanup()` removes all of them. */
export function tempDirs(): { make(prefix?: string): string; cleanup(): void } {
  const dirs: string[] = [];
  return {
    make(prefix = 'level-git-test-') {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Starts an HTTP server on 127.0.0.1 with a random port. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Environment that isolates git from the user's configuration. */
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

/** A git runner bound to an isolated environment. */
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

/** Writes files (path → content) under `dir` and commits them. */
export async function commitFiles(g: ReturnType<typeof gitRunner>, dir: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  await g.ok(['add', '-A'], dir);
  await g.ok(['commit', '-q', '-m', message], dir);
  return g.ok(['rev-parse', 'HEAD'], dir);
}
