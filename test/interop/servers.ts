/**
 * The two servers every interop scenario runs against: level-git (an on-disk engine behind
 * createGitNodeHandler on 127.0.0.1) and C git's own `git http-backend` (the bench's CGI server),
 * the reference whose outcome is the ground truth.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openEngine, type Engine } from '../../src/index.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { startHttpBackend } from '../../bench/e2e/servers/http-backend.js';
import { startServer } from '../http/helpers.js';

/** A smart HTTP server with repositories the suite creates. */
export interface InteropServer {
  label: string;
  /** Base of every URL it serves (replaced in error messages, so the servers compare). */
  origin: string;
  url(repo: string): string;
  /** Creates an empty repository whose HEAD is refs/heads/main. */
  createEmpty(repo: string): Promise<void>;
  close(): Promise<void>;
}

/** level-git over an on-disk engine in `dir`; `engine` is exposed for library commits. */
export async function startLevelGit(dir: string): Promise<InteropServer & { engine: Engine }> {
  const engine = await openEngine({ path: dir });
  const server = await startServer(createGitNodeHandler({ engine }) as never);
  return {
    label: 'level-git',
    engine,
    origin: server.url,
    url: (repo) => `${server.url}/${repo}.git`,
    createEmpty: async (repo) => {
      await engine.createRepo(repo);
    },
    close: async () => {
      await server.close();
      await engine.close();
    },
  };
}

/** C git's `git http-backend` serving bare repositories under `dir`. */
export async function startReference(dir: string): Promise<InteropServer> {
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  const backend = await startHttpBackend(root, 'git http-backend');
  const origin = new URL(backend.url('x')).origin;
  return {
    label: 'git http-backend',
    origin,
    url: backend.url,
    createEmpty: (repo) => backend.createRepo(repo),
    close: () => backend.stop(),
  };
}
