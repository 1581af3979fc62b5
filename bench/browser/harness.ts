/**
 * Headless Chromium for benchmarks and tests: builds the package as published (`tsc -p
 * tsconfig.build.json` into a throwaway package folder), lays out a throwaway app that depends
 * on it by name, bundles the app's pages with esbuild `--platform=browser` (no aliases, no
 * stand-ins), serves them on 127.0.0.1 and drives Debian's Chromium through puppeteer-core.
 * Tests may import this file (nothing in bench/ imports test/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser } from 'puppeteer-core';

/** The checkout's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The system Chromium (never a downloaded one). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Whether it is installed. */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Flags for headless Chromium on a closed network, as root. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Builds the package into `work/level-git` and lays out `work/app`: the page sources of
 * `pageDir`, `node_modules/level-git` (the build) and `deps` linked from this checkout's
 * installed packages, as `npm i file:…` would.
 */
export async function layOutApp(
  work: string,
  pageDir: string,
  deps: readonly string[],
  options: { source?: string; name?: string } = {},
): Promise<{ app: string; pkg: string }> {
  const source = options.source ?? ROOT;
  const name = options.name ?? 'app';
  const pkg = join(work, `level-git-${name}`);
  const app = join(work, name);
  await mkdir(pkg, { recursive: true });
  await copyFile(join(source, 'package.json'), join(pkg, 'package.json'));
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(source, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], {
    cwd: source,
    stdio: 'inherit',
  });
  await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(pkg, join(app, 'node_modules/level-git'));
  for (const dep of deps) await symlink(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
  for (const f of await readdir(pageDir)) await copyFile(join(pageDir, f), join(app, f));
  return { app, pkg };
}

/**
 * The package's sources as of git revision `rev` (src/, package.json, tsconfigs), extracted
 * into `dir` with this checkout's node_modules: a baseline for `layOutApp({ source })`.
 */
export async function sourcesAt(rev: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', ROOT, 'archive', rev, 'src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Bundles `entries` of `app` into `out` (default `app/out`; ESM, browser platform) and copies the HTML pages beside them. */
export async function bundlePages(app: string, entries: readonly string[], extra: Record<string, string> = {}, out = join(app, 'out')): Promise<string> {
  await build({ absWorkingDir: app, entryPoints: [...entries], bundle: true, platform: 'browser', format: 'esm', outdir: out, logLevel: 'warning' });
  for (const f of await readdir(app)) if (f.endsWith('.html')) await copyFile(join(app, f), join(out, f));
  for (const [name, body] of Object.entries(extra)) await writeFile(join(out, name), body);
  return out;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css' };

/** Serves `dir` on 127.0.0.1 (a random port; a secure context, so Service Workers register). */
export function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
    if (name.split('/').some((part) => part === '' || part.startsWith('.'))) return void res.writeHead(404).end();
    try {
      const body = await readFile(join(dir, name));
      res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Starts headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}
