/**
 * level-git in a real browser: the package is built as published (`tsc -p tsconfig.build.json`
 * into a throwaway package folder), installed by name into a throwaway app, bundled by esbuild
 * with `--platform=browser` and nothing else (no aliases, no stand-ins), served on 127.0.0.1 and
 * run in Debian's Chromium through puppeteer-core, on browser-level (IndexedDB): commits, reads,
 * an isomorphic-git depth-1 clone through the in-process transport, a reload with the data
 * intact, a full clone and a push back, the same in a Web Worker, and the same page built by Vite. Without /usr/bin/chromium the file skips loudly, or
 * fails under CI=true (.ci/run installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build as viteBuild } from 'vite';
import { CHROMIUM, CHROMIUM_FLAGS, HAVE_CHROMIUM, ON_CI, ROOT, serve } from './harness.js';

const PAGE_SOURCES = join(ROOT, 'test/browser/page');
// What the app installs beside level-git (`npm i level-git browser-level isomorphic-git buffer`).
const APP_DEPENDENCIES = ['browser-level', 'isomorphic-git', 'buffer'];

if (!HAVE_CHROMIUM && !ON_CI) {
  console.warn(`\n*** test/browser SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`);
}

/**
 * Lays out a throwaway package (package.json + the build's dist) and an app that depends on
 * it by name, exactly as `npm i file:…` would, with node_modules entries as symlinks to this
 * checkout's installed packages.
 */
async function layOut(work: string): Promise<{ app: string; pkg: string }> {
  const pkg = join(work, 'level-git');
  const app = join(work, 'app');
  await mkdir(pkg, { recursive: true });
  await copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { cwd: ROOT, stdio: 'inherit' });
  await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(pkg, join(app, 'node_modules/level-git'));
  for (const dep of APP_DEPENDENCIES) await symlink(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
  for (const f of await readdir(PAGE_SOURCES)) await copyFile(join(PAGE_SOURCES, f), join(app, f));
  return { app, pkg };
}

describe.skipIf(!HAVE_CHROMIUM && !ON_CI)('level-git in headless Chromium', () => {
  let work: string;
  let out: string;
  let app: string;
  let bundled: string[] = [];
  let server: Server | undefined;
  let url: string;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
    work = await mkdtemp(join(tmpdir(), 'level-git-browser-'));
    ({ app } = await layOut(work));
    out = join(app, 'out');
    const result = await build({
      absWorkingDir: app,
      metafile: true,
      entryPoints: ['app.js', 'worker.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outdir: out,
      logLevel: 'warning',
    });
    // What reached the output (a module parsed and then tree-shaken away contributes 0 bytes).
    bundled = Object.values(result.metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, v]) => v.bytesInOutput > 0)
        .map(([f]) => f),
    );
    await copyFile(join(app, 'index.html'), join(out, 'index.html'));
    ({ server, url } = await serve(out));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((ok) => server!.close(ok));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('bundles without a node: module, the Node platform or the on-disk database', async () => {
    for (const f of ['app.js', 'worker.js']) expect(await readFile(join(out, f), 'utf8')).not.toMatch(/["']node:[a-z_/]+["']/);
    expect(bundled.filter((f) => /node_modules\/(level|classic-level|jose|pg)\/|platform\/(node|default|use-node)\.js$/.test(f))).toEqual([]);
    expect(bundled.some((f) => f.endsWith('platform/default-browser.js'))).toBe(true);
  });

  it('commits, reads, clones at depth 1, and finds it all again after a reload', async () => {
    const created = await page.evaluate(() => (globalThis as any).levelGitTest.create('level-git-page'));
    expect(created.platform).toBe('portable');
    expect(created.readme).toBe('# hello\n');
    expect(created.nested).toBe('two\n');
    expect(created.oldNested).toBe('one\n');
    expect(created.log).toEqual(['second', 'first']);
    expect(created.clone).toEqual({ readme: '# hello\n', nested: 'two\n', head: created.head, shallowLog: 1 });

    await page.reload();
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const reopened = await page.evaluate(() => (globalThis as any).levelGitTest.reopen('level-git-page'));
    expect(reopened).toEqual({ head: created.head, readme: '# hello\n', nested: 'two\n', log: ['second', 'first'], clone: created.clone });
  });

  it('takes a push from a full isomorphic-git clone', async () => {
    const r = await page.evaluate(() => (globalThis as any).levelGitTest.pushBack('level-git-page'));
    expect(r).toEqual({ fullLog: 2, pushed: r.pushed, ok: true, head: r.pushed, content: 'from isomorphic-git\n', log: ['pushed', 'second', 'first'] });
  });

  it('runs the same engine in a Web Worker', async () => {
    const { created, reopened } = await page.evaluate(() => (globalThis as any).levelGitTest.inWorker('level-git-worker'));
    expect(created.platform).toBe('portable');
    expect(created.log).toEqual(['second', 'first']);
    expect(created.clone.nested).toBe('two\n');
    expect(reopened.head).toBe(created.head);
    expect(reopened.clone.head).toBe(created.head);
  });

  it('runs the same page built by Vite', async () => {
    await viteBuild({ root: app, logLevel: 'warn', configFile: false, base: './', build: { outDir: join(out, 'vite'), emptyOutDir: true } });
    await page.goto(`${url}vite/index.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const created = await page.evaluate(() => (globalThis as any).levelGitTest.create('level-git-vite'));
    expect(created.platform).toBe('portable');
    expect(created.clone).toEqual({ readme: '# hello\n', nested: 'two\n', head: created.head, shallowLog: 1 });
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  });

  it('says what to pass instead of { path } in a page', async () => {
    const message = await page.evaluate(() => (globalThis as any).levelGitTest.pathError());
    expect(message).toMatch(/BrowserLevel/);
  });
});
