/**
 * `npm run bench:browser -- [--files N] [--runs N] [--modified N] [--raw N] [--baseline REV]`:
 * level-git on IndexedDB (browser-level) against memory-level in the same headless Chromium
 * page, with the package bundled as published (harness.ts), rounds alternated. Prints medians
 * and the IndexedDB/memory ratios of issue 14's targets. `--baseline REV` also builds the
 * package as of git revision REV into a second page of the same browser and alternates rounds
 * between the two, for a before/after under the same conditions. `--raw N` adds the
 * platform's own costs (SHA-1, deflate of the same files) and the databases' (N puts in one
 * batch, one getMany of N keys) to the first round.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { realSourceFiles } from '../shared/files.js';
import { quantile } from '../shared/stats.js';
import { bundlePages, HAVE_CHROMIUM, CHROMIUM, launchChromium, layOutApp, ROOT, serve, sourcesAt } from './harness.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function flag(name: string, fallback: number): number {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} wants a non-negative integer`);
  return n;
}

type Sample = Record<string, number>;
interface Round {
  platform: string;
  files: number;
  memory: Sample;
  idb: Sample;
  cpu?: Sample;
  rawMemory?: Sample;
  rawIdb?: Sample;
  rawDirect?: Sample;
}

const median = (xs: readonly number[]) => quantile(xs, 0.5);
const ms = (x: number) => x.toFixed(0);

async function openPage(browser: Awaited<ReturnType<typeof launchChromium>>, url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
}

function roundIn(page: Page, options: { files: number; modified: number; raw: number; order: string[] }): Promise<Round> {
  return page.evaluate((o) => (globalThis as unknown as { levelGitBench: { run(o: unknown): Promise<Round> } }).levelGitBench.run(o), options);
}

const ROWS: [string, string, number | undefined][] = [
  ['commit of all files', 'commit', 1.5],
  ['commit modifying some files', 'commitModify', undefined],
  ['depth-1 pack, same engine', 'packWarm', undefined],
  ['depth-1 pack, fresh engine (cold caches)', 'packCold', 3],
  ['depth-1 pack, fresh engine, again', 'packCold2', 3],
];

function table(label: string, rounds: readonly Round[]): void {
  console.log(`\n${label}: medians of ${rounds.length} rounds, ms\n`);
  console.log('| operation | memory-level | IndexedDB | ratio (median of per-round ratios) | target |\n|---|---:|---:|---:|---:|');
  for (const [name, key, target] of ROWS) {
    const m = median(rounds.map((r) => r.memory[key]!));
    const i = median(rounds.map((r) => r.idb[key]!));
    const ratio = median(rounds.map((r) => r.idb[key]! / r.memory[key]!));
    console.log(`| ${name} | ${ms(m)} | ${ms(i)} | ${ratio.toFixed(2)}× | ${target === undefined ? '' : `≤ ${target}×`} |`);
  }
  const c = (key: string) => `${median(rounds.map((r) => r.idb[`${key}Tx`]!))} transactions, ${median(rounds.map((r) => r.idb[`${key}Req`]!))} requests`;
  console.log(
    `\nIndexedDB calls: commit of all files ${c('commit')}; commit modifying some ${c('commitModify')}; depth-1 pack, same engine ${c('packWarm')}; fresh engine ${c('packCold')}; again ${c('packCold2')}`,
  );
}

async function main(): Promise<void> {
  if (!HAVE_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const files = flag('files', 1000);
  const runs = Math.max(1, flag('runs', 3));
  const modified = Math.min(flag('modified', 100), files);
  const raw = flag('raw', 0);
  const baseline = option('baseline');
  const input = realSourceFiles(files, join(ROOT, 'node_modules')).map((f) => ({ path: f.path, content: new TextDecoder().decode(f.content) }));
  const work = await mkdtemp(join(tmpdir(), 'level-git-bench-browser-'));
  const serveDir = join(work, 'serve');
  const extra = { 'files.json': JSON.stringify(input) };
  const deps = ['browser-level', 'memory-level'];
  const { app } = await layOutApp(work, join(ROOT, 'bench/browser/page'), deps);
  await bundlePages(app, ['bench.js'], extra, join(serveDir, 'new'));
  if (baseline !== undefined) {
    const source = await sourcesAt(baseline, join(work, 'base-src'));
    const base = await layOutApp(work, join(ROOT, 'bench/browser/page'), deps, { source, name: 'base' });
    await bundlePages(base.app, ['bench.js'], extra, join(serveDir, 'base'));
  }
  const { server, url } = await serve(serveDir);
  const browser = await launchChromium();
  try {
    const pages: [string, Page][] = [['this checkout', await openPage(browser, `${url}new/index.html`)]];
    if (baseline !== undefined) pages.push([`baseline ${baseline}`, await openPage(browser, `${url}base/index.html`)]);
    const rounds = new Map<string, Round[]>(pages.map(([name]) => [name, []]));
    let first: Round | undefined;
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? ['memory', 'idb'] : ['idb', 'memory'];
      for (const [name, page] of r % 2 === 0 ? pages : [...pages].reverse()) {
        await page.bringToFront();
        const round = await roundIn(page, { files, modified, raw: r === 0 && name === pages[0]![0] ? raw : 0, order });
        first ??= round;
        rounds.get(name)!.push(round);
        process.stderr.write(`round ${r + 1}/${runs} ${name}: ${JSON.stringify({ memory: round.memory, idb: round.idb })}\n`);
      }
    }
    const mb = (input.reduce((n, f) => n + f.content.length, 0) / 1e6).toFixed(1);
    console.log(`\nChromium, ${first!.platform} platform, ${first!.files} files (${mb} MB), ${modified} modified by the second commit`);
    for (const [name, list] of rounds) table(name, list);
    if (first?.cpu) {
      const { cpu, rawMemory, rawIdb, rawDirect } = first;
      console.log(`\nportable platform over the same files: SHA-1 ${ms(cpu.sha1!)} ms, deflate (level 1) ${ms(cpu.deflate!)} ms`);
      console.log(
        `memory-level, ${raw} keys of 2 KB: batch ${ms(rawMemory!.batch!)} ms, getMany ${ms(rawMemory!.getMany!)} ms, of missing keys ${ms(rawMemory!.getManyMissing!)} ms`,
      );
      console.log(`browser-level: batch ${ms(rawIdb!.batch!)} ms, getMany ${ms(rawIdb!.getMany!)} ms, of missing keys ${ms(rawIdb!.getManyMissing!)} ms`);
      console.log(
        `IndexedDB, every request at once: batch ${ms(rawDirect!.batch!)} ms (strict durability ${ms(rawDirect!.batchStrict!)}), getMany ${ms(rawDirect!.getMany!)} ms, of missing keys ${ms(rawDirect!.getManyMissing!)} ms; getAll of the range ${ms(rawDirect!.range!)} ms, getAllKeys ${ms(rawDirect!.rangeKeys!)} ms`,
      );
    }
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
