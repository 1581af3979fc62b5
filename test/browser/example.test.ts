/**
 * The example app (examples/browser/) as its README tells a user to build it: the package built
 * as published and installed by name, the example's own `npm run build` (esbuild) and
 * `npm run build:vite` command lines run unchanged, the page served and driven in Debian's
 * headless Chromium — create a repository in IndexedDB, edit and add files, commit, read the
 * history and the diff, clone with isomorphic-git, reload. It asserts what a user sees, and
 * takes the README's screenshot: into docs/browser-example.png with UPDATE_SCREENSHOT=1, else
 * into the temp dir (so `npm test` leaves the checkout clean).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_FLAGS, closeServer, layOutApp, requireChromium, ROOT, serve, skipWithoutChromium } from './harness.js';

const EXAMPLE = join(ROOT, 'examples/browser');
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs/browser-example.png') : join(tmpdir(), 'level-git-browser-example.png');
// What the test types into the editor (ASCII: its length is its size in bytes).
const README = '# Notes\n\nKept in this browser, versioned by Git.\nCloned anywhere, no server.\n';
const IDEAS = 'A diff view per commit\n';
const SKIP = skipWithoutChromium('test/browser/example.test.ts');

/** Runs one of the example's npm scripts exactly as written in its package.json. */
async function runScript(app: string, name: string): Promise<void> {
  const scripts = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')).scripts as Record<string, string>;
  execSync(scripts[name]!, { cwd: app, stdio: 'pipe', env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` } });
}

// innerText on purpose: the text as rendered, what the user reads.
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is asserted
const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e as HTMLElement).innerText);
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is asserted
const texts = (page: Page, selector: string) => page.$$eval(selector, (es) => es.map((e) => (e as HTMLElement).innerText));

/** Clicks and waits until the action it started has finished (the page marks itself busy meanwhile). */
async function clickAndWait(page: Page, selector: string): Promise<void> {
  await page.click(selector);
  await page.waitForSelector('body[data-state="ready"]');
  const state = await text(page, '#state');
  if (state.includes('failed')) throw new Error(state);
}

async function replaceEditorText(page: Page, content: string): Promise<void> {
  await page.click('#editor');
  await page.keyboard.down('Control');
  await page.keyboard.press('a');
  await page.keyboard.up('Control');
  await page.keyboard.type(content);
}

describe.skipIf(SKIP)('the browser example app', () => {
  let work: string;
  let app: string;
  let browser: Browser | undefined;
  let page: Page;
  const servers: Server[] = [];

  beforeAll(async () => {
    requireChromium();
    work = await mkdtemp(join(tmpdir(), 'level-git-example-'));
    app = await layOutApp(work, 'app', ['browser-level', 'isomorphic-git', 'buffer', '@isomorphic-git/lightning-fs']);
    for (const f of await readdir(EXAMPLE)) if ((await stat(join(EXAMPLE, f))).isFile()) await copyFile(join(EXAMPLE, f), join(app, f));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    await page.setViewport({ width: 1180, height: 800 });
    page.on('pageerror', (err) => console.error('page error:', err));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await closeServer(s);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds with esbuild, then creates, edits, commits, shows the log and the diff, clones, and keeps it all across a reload', async () => {
    await runScript(app, 'build');
    const { server, url } = await serve(join(app, 'dist'));
    servers.push(server);
    const db = `${url}?db=example-esbuild`;
    await page.goto(db);
    await page.waitForSelector('body[data-state="ready"]');
    expect(await text(page, '#where')).toContain('IndexedDB database “example-esbuild” · platform portable');
    expect(await page.$eval('#empty', (e) => (e as HTMLElement).hidden)).toBe(false);

    // Create: one commit with two files.
    await clickAndWait(page, '#create');
    expect(await texts(page, '#files button')).toEqual(['README.md', 'todo/today.md']);
    expect(await page.$eval('#editor', (e) => (e as HTMLTextAreaElement).value)).toBe('# Notes\n\nKept in this browser, versioned by Git.\n');
    const first = await texts(page, '#log button');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^[0-9a-f]{7} Start the notebook\nAda Example · \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(await texts(page, '#diff-files li')).toEqual(['added README.md +3 −0', 'added todo/today.md +2 −0']);

    // Edit one file, add another, commit both.
    await replaceEditorText(page, README);
    await page.type('#new-path', 'ideas.md');
    await page.click('#new-file');
    await replaceEditorText(page, IDEAS);
    expect(await texts(page, '#files .changed')).toEqual(['README.md', 'ideas.md']);
    await page.type('#message', 'Add ideas, extend the README');
    await clickAndWait(page, '#commit');

    const log = await texts(page, '#log button');
    expect(log.map((l) => l.split('\n')[0]!.slice(8))).toEqual(['Add ideas, extend the README', 'Start the notebook']);
    expect(await texts(page, '#files .changed')).toEqual([]);
    expect(await texts(page, '#files button')).toEqual(['README.md', 'ideas.md', 'todo/today.md']);
    const head = await page.$eval('#log button', (e) => (e as HTMLElement).dataset.sha!);
    expect(await text(page, '#diff-title')).toBe(`Diff of ${head.slice(0, 7)} — Add ideas, extend the README`);
    expect(await texts(page, '#diff-files li')).toEqual(['modified README.md +1 −0', 'added ideas.md +1 −0']);
    const patch = await texts(page, '#diff span');
    expect(patch).toContain('diff --git a/README.md b/README.md');
    expect(patch).toContain('+Cloned anywhere, no server.');
    expect(patch).toContain(' Kept in this browser, versioned by Git.');
    expect(patch).toContain('new file mode 100644');
    expect(patch).toContain('+A diff view per commit');
    expect(await page.$$eval('#diff span.add', (es) => es.length)).toBe(2);

    // The older commit's diff, then back to the newest.
    await clickAndWait(page, '#log li:nth-child(2) button');
    expect(await text(page, '#diff-title')).toMatch(/— Start the notebook$/);
    await clickAndWait(page, '#log li:nth-child(1) button');

    // Clone with isomorphic-git, in the page.
    await clickAndWait(page, '#clone');
    expect(await page.$eval('#clone-result', (e) => (e as HTMLElement).dataset.head)).toBe(head);
    expect(await text(page, '#clone-result p')).toBe(`HEAD ${head.slice(0, 7)} · 2 commits · same as main`);
    expect(await texts(page, '#clone-files li')).toEqual([`README.md ${README.length} bytes`, `ideas.md ${IDEAS.length} bytes`, 'todo/today.md 36 bytes']);

    await page.click('#files button[data-path="README.md"]');
    await page.screenshot({ path: SCREENSHOT as `${string}.png` });
    console.log(`example screenshot: ${SCREENSHOT}`);

    // A reload finds everything in IndexedDB.
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    expect(await page.$eval('#log button', (e) => (e as HTMLElement).dataset.sha)).toBe(head);
    expect(await texts(page, '#files button')).toEqual(['README.md', 'ideas.md', 'todo/today.md']);
    expect(await page.$eval('#editor', (e) => (e as HTMLTextAreaElement).value)).toContain('Cloned anywhere, no server.');
  });

  it('builds with Vite and runs the same', async () => {
    await runScript(app, 'build:vite');
    const { server, url } = await serve(join(app, 'dist-vite'));
    servers.push(server);
    await page.goto(`${url}?db=example-vite`);
    await page.waitForSelector('body[data-state="ready"]');
    await clickAndWait(page, '#create');
    await page.click('#files button[data-path="todo/today.md"]');
    await replaceEditorText(page, '- water the plants\n');
    await clickAndWait(page, '#commit');
    expect(await texts(page, '#diff-files li')).toEqual(['modified todo/today.md +0 −1']);
    await clickAndWait(page, '#clone');
    expect(await text(page, '#clone-result p')).toMatch(/· 2 commits · same as main$/);
  });
});
