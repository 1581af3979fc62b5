/**
 * The level-git server the bench runs, compiled: `tsc -p bench/tsconfig.server.json` writes the
 * sources and the server program (level-git-main.ts) as JavaScript to bench/.cache/server-build,
 * once per bench process, so the server runs as a published package does (`dist/`, no loader).
 * From sources (`--from-sources`) every module, the pack worker's included, is transpiled by tsx
 * as it loads: a large push's worker thread then starts in ~0.45 s instead of ~0.17 s, and tsx's
 * loader thread spends ~0.5 s of CPU beside it, none of which a user of the package pays.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './control.js';

const OUT = join(PROJECT_ROOT, 'bench', '.cache', 'server-build');
let built: Promise<string> | undefined;

/** Where level-git's server program is: compiled (the default), or its source run through tsx. */
export type ServerFrom = 'build' | 'sources';
let from: ServerFrom = 'build';

/** Chooses how later `levelGitServerScript` calls run the server (`npm run bench -- --from-sources`). */
export function runServerFrom(f: ServerFrom): void {
  from = f;
}

/** How the server runs (for the report's header). */
export function serverFrom(): ServerFrom {
  return from;
}

/** The server program to start: the compiled one (built on first call), or the source file. */
export function levelGitServerScript(): Promise<string> {
  if (from === 'sources') return Promise.resolve(join(PROJECT_ROOT, 'bench/e2e/servers/level-git-main.ts'));
  built ??= (async () => {
    rmSync(OUT, { recursive: true, force: true });
    const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', join(PROJECT_ROOT, 'bench', 'tsconfig.server.json')], { cwd: PROJECT_ROOT });
    return join(OUT, 'bench', 'e2e', 'servers', 'level-git-main.js');
  })();
  return built;
}
