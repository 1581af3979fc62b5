/**
 * `node --import tsx bench/browser/profile.ts [--files N] [--modified N] [--kind idb|memory] [--top N]`:
 * where a round's time goes in Chromium. Runs one round of bench.js on one database kind (after
 * a warm-up round) with the renderer's CPU profiler on (DevTools protocol) and every IndexedDB
 * transaction traced; prints, per operation, its time, the time with a transaction open, the
 * transactions, and the functions with the most self time over the round.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSourceFiles } from '../shared/files.js';
import { bundlePages, launchChromium, layOutApp, ROOT, serve } from './harness.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in `profile`. */
function printProfile(profile: Profile, top: number): void {
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let total = 0;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    const dt = profile.timeDeltas[i]! / 1000;
    total += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  console.log(`  self time (${total.toFixed(0)} ms sampled):`);
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${name}`);
  // `--stacks NAME`: where the samples of functions named NAME come from (their callers, 8 deep).
  const i = process.argv.indexOf('--stacks');
  if (i < 0) return;
  const want = process.argv[i + 1]!;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map<string, number>();
  profile.samples.forEach((id, k) => {
    if (byId.get(id)!.callFrame.functionName !== want) return;
    const names: string[] = [];
    for (let p = parent.get(id); p !== undefined && names.length < 8; p = parent.get(p)) names.push(byId.get(p)!.callFrame.functionName || '(anon)');
    const key = names.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + profile.timeDeltas[k]! / 1000);
  });
  for (const [key, ms] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${ms.toFixed(1).padStart(8)} ms  ${want} < ${key}`);
}

async function main(): Promise<void> {
  const files = Number(option('files', '1000'));
  const modified = Number(option('modified', '100'));
  const kind = option('kind', 'idb');
  const top = Number(option('top', '25'));
  const input = realSourceFiles(files, join(ROOT, 'node_modules')).map((f) => ({ path: f.path, content: new TextDecoder().decode(f.content) }));
  const work = await mkdtemp(join(tmpdir(), 'level-git-profile-'));
  const { app } = await layOutApp(work, join(ROOT, 'bench/browser/page'), ['browser-level', 'memory-level']);
  const out = await bundlePages(app, ['bench.js'], { 'files.json': JSON.stringify(input) });
  const { server, url } = await serve(out);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(`${url}index.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const go = () =>
      page.evaluate((o) => (globalThis as unknown as { levelGitBench: { profile(o: unknown): Promise<unknown> } }).levelGitBench.profile(o), {
        files,
        modified,
        kind,
      }) as Promise<{
        out: Record<string, number>;
        spans: Record<string, { ms: number; busy: number; spans: { at: number; ms: number; mode: string; req: number }[] }>;
      }>;
    await go(); // warm-up: the page's code compiled, the database's first open done
    const cdp = await page.createCDPSession();
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    const profiles = new Map<string, Profile>();
    cdp.on('Profiler.consoleProfileFinished', (e) => void profiles.set(e.title ?? '', e.profile as unknown as Profile));
    const result = await go();
    await new Promise((ok) => setTimeout(ok, 500));
    for (const [name, s] of Object.entries(result.spans)) {
      console.log(`\n${name}: ${s.ms.toFixed(1)} ms, a transaction open ${s.busy.toFixed(1)} ms`);
      const spans = process.argv.includes('--spans') ? s.spans : s.spans.filter((t) => t.req > 50 || t.ms > 50);
      for (const t of spans) console.log(`  at ${t.at} ms: ${t.mode} ${t.ms} ms, ${t.req} requests`);
      const profile = profiles.get(name);
      if (profile !== undefined) printProfile(profile, top);
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
