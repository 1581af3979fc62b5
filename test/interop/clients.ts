/**
 * The foreign Git clients of the interop suite, each driven through a small command-line
 * program beside this file: libgit2 through pygit2, dulwich, and go-git. They come from
 * Debian's packages (installed by .ci/run), so Debian's Python (/usr/bin/python3, not a
 * `python3` on PATH that may not see them) and Debian's packaged go-git source, built here in
 * GOPATH mode.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const GO_GIT_SOURCE = '/usr/share/gocode/src/github.com/go-git/go-git';

/** What one run of a client command left: the error is its message, for comparing servers. */
export interface ClientResult {
  ok: boolean;
  error: string;
}

/** A client the suite runs its scenarios with. */
export interface ForeignClient {
  name: string;
  /** Whether it can clone with a depth (libgit2 1.5, Debian 12's, cannot). */
  shallow: boolean;
  /** Why it cannot run here, or undefined when it is installed. */
  missing: string | undefined;
  /** Its version, or '' when missing. */
  version: string;
  /** Builds what it needs before the first run (go-git: its program). */
  prepare(work: string): Promise<void>;
  /** Runs `clone <url> <dir> [--bare] [--depth N]`, `fetch <dir>` or `push <dir> <refspec>...`. */
  run(args: string[], home: string): Promise<ClientResult>;
}

/** Runs a program with a clean environment (no PYTHONPATH, GOPATH or git config from outside). */
function exec(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Environment every client runs with: its own HOME, no system git config, no prompts. */
function clientEnv(home: string): Record<string, string> {
  return { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', PYTHONNOUSERSITE: '1', PYTHONWARNINGS: 'ignore' };
}

function resultOf(r: { code: number | null; stdout: string; stderr: string }): ClientResult {
  const ok = r.code === 0 && r.stdout.trim().endsWith('ok');
  return { ok, error: ok ? '' : r.stderr.trim() || `exit ${r.code}: ${r.stdout.trim()}` };
}

function pythonClient(name: string, script: string, module: string, shallow: boolean): ForeignClient {
  const probe = spawnSync(PYTHON, [join(HERE, script), 'version'], { env: { PATH: '/usr/bin:/bin', PYTHONNOUSERSITE: '1' }, encoding: 'utf8' });
  const missing =
    probe.status === 0 ? undefined : `${PYTHON} cannot import ${module} (apt-get install python3-${module}): ${(probe.stderr ?? String(probe.error)).trim()}`;
  return {
    name,
    shallow,
    missing,
    version: missing === undefined ? probe.stdout.trim() : '',
    prepare: async () => {},
    run: async (args, home) => resultOf(await exec(PYTHON, [join(HERE, script), ...args], clientEnv(home))),
  };
}

/** The Debian package version of go-git, read from dpkg (the source carries none). */
function goGitVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-go-git-go-git-dev'], { encoding: 'utf8' });
  return r.status === 0 ? `go-git ${r.stdout.trim()} (Debian)` : 'go-git (version unknown)';
}

function goGitClient(): ForeignClient {
  const go = spawnSync('go', ['version'], { env: { PATH: '/usr/bin:/bin', HOME: tmpdir() }, encoding: 'utf8' });
  const missing =
    go.status !== 0
      ? 'go is not installed (apt-get install golang-go)'
      : !existsSync(GO_GIT_SOURCE)
        ? `${GO_GIT_SOURCE} is absent (apt-get install golang-github-go-git-go-git-dev)`
        : undefined;
  let binary = '';
  return {
    name: 'go-git',
    shallow: true,
    missing,
    version: missing === undefined ? `${goGitVersion()}, ${go.stdout.trim()}` : '',
    async prepare(work) {
      // GOPATH mode resolves go-git's `/v5` imports only for code in a GOPATH tree with a
      // go.mod ("minimal module compatibility"): the program is copied into a temp GOPATH.
      const gopath = join(work, 'gopath');
      const pkg = join(gopath, 'src', 'interop', 'gogit');
      mkdirSync(pkg, { recursive: true });
      copyFileSync(join(HERE, 'go-git-client', 'main.go'), join(pkg, 'main.go'));
      writeFileSync(join(pkg, 'go.mod'), 'module interop/gogit\n\ngo 1.19\n');
      binary = join(work, 'go-git-client');
      // The build cache outlives the run (a cold build of go-git takes ~40 s, a warm one ~4 s);
      // Go's cache is keyed by content and safe to share between concurrent builds.
      const env = {
        HOME: work,
        GO111MODULE: 'off',
        GOPATH: `${gopath}:/usr/share/gocode`,
        GOCACHE: join(tmpdir(), 'level-git-interop-gocache'),
        GOFLAGS: '',
        CGO_ENABLED: '0',
      };
      const r = await exec('go', ['build', '-o', binary, '.'], env, pkg, 300_000);
      if (r.code !== 0) throw new Error(`go build of the go-git client failed:\n${r.stderr}`);
    },
    async run(args, home) {
      if (binary === '') throw new Error('go-git client not built: call prepare() first');
      return resultOf(await exec(binary, args, clientEnv(home)));
    },
  };
}

/** The clients by name. */
export const CLIENTS = {
  pygit2: () => pythonClient('libgit2 (pygit2)', 'pygit2-client.py', 'pygit2', false),
  dulwich: () => pythonClient('dulwich', 'dulwich-client.py', 'dulwich', true),
  'go-git': goGitClient,
} as const;
