/**
 * Bad input on IndexedDB in headless Chromium, with the package bundled as published
 * (bench/browser/harness.ts): the origin's storage quota running out during a commit and during
 * a pack ingest (set through the DevTools protocol's `Storage.overrideQuotaForOrigin`, a real
 * quota, not a stand-in) must end in a StorageError with nothing of the write stored; two tabs
 * committing to one branch of one database at the same time must lose no commit and let
 * exactly one compare-and-swap win per head. Skips without Chromium like browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { bundlePages, CHROMIUM, HAVE_CHROMIUM, launchChromium, layOutApp, ROOT, serve } from '../../bench/browser/harness.js';

const ON_CI = process.env.CI === 'true';
/** The quota origin's quota: room for the small commits, not for 8 MiB of incompressible files. */
const QUOTA = 3 * 1024 * 1024;

interface Api {
  setUp(db: string): Promise<{ head: string; usage: number }>;
  bigCommit(db: string, mb: number): Promise<Record<string, unknown>>;
  bigIngest(db: string, mb: number): Promise<Record<string, unknown>>;
  race(db: string, tab: string, n: number, mode: 'cas' | 'plain', inProcess?: boolean): Promise<{ made: string[]; conflicts: number }>;
  inspect(db: string): Promise<{ log: string[]; files: string[] }>;
  sweptObjects(db: string): Promise<{ before: string[]; swept: number; after: string[]; fresh: string[]; kept: string }>;
}

function call<K extends keyof Api>(page: Page, name: K, ...args: Parameters<Api[K]>): ReturnType<Api[K]> {
  return page.evaluate(
    (n, a) => (globalThis as unknown as { levelGitStorage: Record<string, (...x: unknown[]) => unknown> }).levelGitStorage[n]!(...a),
    name,
    args,
  ) as ReturnType<Api[K]>;
}

describe.skipIf(!HAVE_CHROMIUM && !ON_CI)('IndexedDB quota and several tabs in headless Chromium', () => {
  let work: string;
  let server: Server | undefined;
  let quotaServer: Server | undefined;
  let url: string;
  let browser: Browser | undefined;
  let page: Page;
  let quotaPage: Page;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
    work = await mkdtemp(join(tmpdir(), 'level-git-storage-'));
    const { app } = await layOutApp(work, join(ROOT, 'test/browser/storage-page'), ['browser-level', 'memory-level']);
    const out = await bundlePages(app, ['storage.js']);
    ({ server, url } = await serve(out));
    // The quota scenarios get an origin of their own (another port): Chromium reads an
    // origin's quota once, when IndexedDB is first used there, so the override comes first.
    let quotaUrl: string;
    ({ server: quotaServer, url: quotaUrl } = await serve(out));
    browser = await launchChromium();
    page = await open(url);
    quotaPage = await open(quotaUrl);
    const cdp = await quotaPage.createCDPSession();
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(quotaUrl).origin, quotaSize: QUOTA });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of [server, quotaServer]) if (s) await new Promise((ok) => s.close(ok));
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function open(at: string): Promise<Page> {
    const p = await browser!.newPage();
    p.on('pageerror', (err) => console.error('page error:', err));
    await p.goto(at);
    await p.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return p;
  }

  it('fails a commit over the quota with ERR_STORAGE and stores none of it', async () => {
    await call(quotaPage, 'setUp', 'quota-commit');
    const r = await call(quotaPage, 'bigCommit', 'quota-commit', 8);
    expect(r.error).toMatchObject({ name: 'StorageError', code: 'ERR_STORAGE', reason: 'quota-exceeded', cause: 'QuotaExceededError' });
    expect(r.after).toBe(r.before); // not one key of the commit's objects, graph record or ref
    expect(r.log).toEqual(['first']);
    expect(r.bigFile).toBe('ERR_PATH_NOT_FOUND');
    expect(r.readme).toBe('hello\n');
    // The engine and the database stay usable: a commit that fits goes through.
    const small = await call(quotaPage, 'bigCommit', 'quota-commit', 1);
    expect(small.error).toBeNull();
    expect(small.log).toEqual(['big', 'first']);
  });

  it('fails an ingest over the quota with ERR_STORAGE and leaves no quarantine or object behind', async () => {
    await call(quotaPage, 'setUp', 'quota-ingest');
    const r = await call(quotaPage, 'bigIngest', 'quota-ingest', 8);
    expect(r.error).toMatchObject({ name: 'StorageError', code: 'ERR_STORAGE', reason: 'quota-exceeded' });
    expect(r.after).toBe(r.before);
    expect(r.commitStored).toBe(false);
  });

  it('reads no swept object back from the entries it keeps in memory', async () => {
    const r = await call(page, 'sweptObjects', 'swept');
    expect(r.before).toEqual(['commit', 'tree']);
    expect(r.swept).toBe(3);
    expect(r.after).toEqual(['ERR_OBJECT_NOT_FOUND', 'ERR_OBJECT_NOT_FOUND']);
    expect(r.fresh).toEqual(['ERR_OBJECT_NOT_FOUND', 'ERR_OBJECT_NOT_FOUND']);
    expect(r.kept).toBe('kept\n');
  });

  it('loses no commit when two tabs commit to one branch at once', async () => {
    const second = await browser!.newPage();
    try {
      await second.goto(url);
      await second.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      await call(page, 'setUp', 'two-tabs');
      const n = 12;
      const [a, b] = await Promise.all([call(page, 'race', 'two-tabs', 'a', n, 'plain'), call(second, 'race', 'two-tabs', 'b', n, 'plain')]);
      expect(a.made).toHaveLength(n);
      expect(b.made).toHaveLength(n);
      const { log, files } = await call(page, 'inspect', 'two-tabs');
      expect(log).toHaveLength(2 * n + 1);
      expect(new Set(log)).toEqual(new Set([...a.made, ...b.made, log[log.length - 1]!]));
      expect(files).toHaveLength(2 * n);

      // Compare-and-swap: each head is won by exactly one tab.
      const [c, d] = await Promise.all([call(page, 'race', 'two-tabs', 'c', n, 'cas'), call(second, 'race', 'two-tabs', 'd', n, 'cas')]);
      const after = await call(page, 'inspect', 'two-tabs');
      expect(after.log).toHaveLength(log.length + c.made.length + d.made.length);
      expect(c.made.length + c.conflicts).toBe(n);
      expect(d.made.length + d.conflicts).toBe(n);
    } finally {
      await second.close();
    }
  });
});
