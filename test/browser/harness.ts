/**
 * What the browser tests share: Debian's Chromium (never a downloaded one) and its flags, the
 * package built as published into a throwaway folder, an app folder that depends on it by
 * name, and a static file server on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { CHROMIUM, HAVE_CHROMIUM, ROOT } from '../../bench/browser/harness.js';

// What the browser benchmark shares (paths, the system Chromium, its flags, a static server).
export { CHROMIUM, CHROMIUM_FLAGS, HAVE_CHROMIUM, ROOT, serve } from '../../bench/browser/harness.js';
export const ON_CI = process.env.CI === 'true';

/** Says loudly that a browser test file is skipped (no Chromium, not on CI); true when it is. */
export function skipWithoutChromium(what: string): boolean {
  if (!HAVE_CHROMIUM && !ON_CI) console.warn(`\n*** ${what} SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`);
  return !HAVE_CHROMIUM && !ON_CI;
}

/** Throws under CI=true when Chromium is missing (.ci/run installs it). */
export function requireChromium(): void {
  if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
}

/**
 * Builds the package as published (package.json + `tsc -p tsconfig.build.json` output) into
 * `work/level-git`, and makes `work/<appName>` an app whose node_modules holds it by name beside
 * `dependencies` (symlinks to this checkout's installed packages), as `npm i` would.
 */
export async function layOutApp(work: string, appName: string, dependencies: string[]): Promise<string> {
  const pkg = join(work, 'level-git');
  const app = join(work, appName);
  if (!existsSync(pkg)) {
    await mkdir(pkg, { recursive: true });
    await copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  }
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(pkg, join(app, 'node_modules/level-git'));
  for (const dep of dependencies) {
    await mkdir(dirname(join(app, 'node_modules', dep)), { recursive: true }); // a scoped name's folder
    await symlink(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
  }
  return app;
}

/** Closes a server started by `serve`. */
export function closeServer(server: Server | undefined): Promise<void> {
  return server ? new Promise((ok) => server.close(() => ok())) : Promise.resolve();
}
