/**
 * createGitFetchHandler in a Service Worker: the package built as published and installed by
 * name, the worker bundled by esbuild `--platform=browser` (nothing else), served on 127.0.0.1
 * (a secure context) to Debian's headless Chromium. The worker answers /git/* from a
 * repository in IndexedDB; the page clones, commits and pushes with isomorphic-git's own
 * fetch-based client (`isomorphic-git/http/web`), as against any Git server, and clones again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_FLAGS, closeServer, layOutApp, requireChromium, ROOT, serve, skipWithoutChromium } from './harness.js';

const SOURCES = join(ROOT, 'test/browser/service-worker');
const SKIP = skipWithoutChromium('test/browser/service-worker.test.ts');

describe.skipIf(SKIP)('createGitFetchHandler in a Service Worker', () => {
  let work: string;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    requireChromium();
    work = await mkdtemp(join(tmpdir(), 'level-git-sw-'));
    const app = await layOutApp(work, 'app', ['browser-level', 'isomorphic-git', 'buffer']);
    for (const f of await readdir(SOURCES)) await copyFile(join(SOURCES, f), join(app, f));
    await copyFile(join(ROOT, 'test/browser/page/memory-fs.js'), join(app, 'memory-fs.js'));
    const out = join(app, 'out');
    await build({ absWorkingDir: app, entryPoints: ['page.js', 'sw.js'], bundle: true, platform: 'browser', format: 'esm', outdir: out, logLevel: 'warning' });
    await copyFile(join(app, 'index.html'), join(out, 'index.html'));
    let url: string;
    ({ server, url } = await serve(out));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves a clone and takes a push, all inside the browser', async () => {
    const r = await page.evaluate(() => (globalThis as any).swTest.cloneCommitPush());
    expect(r.log).toEqual(['from the service worker']);
    expect(r.readme).toBe('# served by a Service Worker\n');
    expect(r.ok).toBe(true);
    expect(r.secondLog).toEqual(['from the page', 'from the service worker']);
    expect(r.head).toBe(r.pushed);
    expect(r.page).toBe('pushed from the page\n');
  });
});
