/**
 * What a browser app's bundle holds, built from the package as published and installed by name
 * (no Chromium needed). Sizes, per entry and per service the app enables, with esbuild
 * `--platform=browser --minify` as one file and split (`--splitting`: what loads first is the
 * entry and the chunks it imports statically); docs/browser.md, "Bundle size", records them per
 * release. Then the services the core leaves out work where an app enables them: a page bundled
 * by esbuild (one file and split) and by webpack 5 merges, diffs and archives, run here on
 * memory-level (browser bundles need no DOM), and says what to call where it did not enable them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import webpack from 'webpack';
import { layOutApp } from './harness.js';

/** The one-file ceiling of `openEngine + commit + readFile` (measured 351.5 KiB; docs/browser.md, "Bundle size"). */
const CORE_CEILING_KIB = 360;

const CORE =
  "import { openEngine } from 'level-git'; import { BrowserLevel } from 'browser-level';\n" +
  "export async function run() { const e = await openEngine({ db: new BrowserLevel('x') }); const r = await e.createRepo('a');\n" +
  "await r.commit({ branch: 'main', message: 'm', author: { name: 'a', email: 'a@b' }, changes: [{ path: 'a', content: 'b' }] }); return r.readFile('main', 'a'); }\n";

/** Each measured page: the core, plus one service the app enables, and the SDK alone. */
const ENTRIES: Record<string, string> = {
  core: CORE,
  review: `${CORE}import { enableReview } from 'level-git'; enableReview();\n`,
  archives: `${CORE}import { enableArchives } from 'level-git'; enableArchives();\n`,
  remotes: `${CORE}import { enableRemotes } from 'level-git'; enableRemotes();\n`,
  all: `${CORE}import { enableArchives, enableRemotes, enableReview } from 'level-git'; enableReview(); enableArchives(); enableRemotes();\n`,
  client: "import { LevelGitClient } from 'level-git/client'; export const c = new LevelGitClient({ baseUrl: 'https://x', token: 't' });\n",
};

// Modules of each optional service, as paths in the built package.
const REVIEW = /dist\/src\/(repo\/(diff|merge|merge-trees|merge-entry|merge-recursive|dir-renames)|diff\/[a-z0-9-]+)\.js$/;
const ARCHIVES = /dist\/src\/(repo\/archive|archive\/[a-z0-9-]+)\.js$/;
const REMOTES = /dist\/src\/(remote|webhooks)\/[a-z0-9-]+\.js$/;
const INGEST = /dist\/src\/repo\/ingest\.js$/;

/** A page that needs the optional services: without enabling them, then with. */
const USES_SERVICES = `
import { MemoryLevel } from 'memory-level';
import { enableArchives, enableReview, getPlatform, openEngine } from 'level-git';
const author = { name: 'a', email: 'a@example.com', timestamp: 1700000000 };
export async function run() {
  const engine = await openEngine({ db: new MemoryLevel() });
  const repo = await engine.createRepo('notes');
  const base = await repo.commit({ branch: 'main', message: 'base', author, changes: [{ path: 'a.txt', content: 'one\\ntwo\\nthree\\n' }] });
  await repo.createBranch('topic', base.sha);
  await repo.commit({ branch: 'topic', message: 'topic', author, changes: [{ path: 'a.txt', content: 'one\\ntwo\\nthree\\nfour\\n' }] });
  await repo.commit({ branch: 'main', message: 'main', author, changes: [{ path: 'b.txt', content: 'b\\n' }] });
  const refused = await repo.merge({ base: 'main', head: 'topic', author }).catch((e) => ({ code: e.code, message: e.message }));
  const noArchive = await repo.archive('main').catch((e) => ({ code: e.code, message: e.message }));
  enableReview();
  enableArchives();
  const merged = await repo.merge({ base: 'main', head: 'topic', author, message: 'merge topic' });
  const diff = await repo.diff(base.sha, 'main');
  const archive = await repo.archive('main', { format: 'tar' });
  let tarBytes = 0;
  for await (const chunk of archive.body) tarBytes += chunk.length;
  const a = new TextDecoder().decode(await repo.readFile('main', 'a.txt'));
  const main = await repo.resolve('main');
  await engine.close();
  return { platform: getPlatform().name, refused, noArchive, merged: merged.strategy === 'merge' && merged.sha === main, files: diff.files.map((f) => f.path), a, tarBytes };
}
`;

interface Size {
  bytes: number;
  gzip: number;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const gz = (parts: Uint8Array[]) => gzipSync(Buffer.concat(parts), { level: 9 }).length;

/** Outputs loaded first: the entry's and the chunks it imports statically (not the dynamic ones). */
function firstLoad(meta: Metafile, entry: string): string[] {
  const outputs = meta.outputs;
  const first = new Set<string>();
  const todo = Object.keys(outputs).filter((k) => outputs[k]!.entryPoint === entry);
  for (let k = todo.pop(); k !== undefined; k = todo.pop()) {
    if (first.has(k)) continue;
    first.add(k);
    for (const i of outputs[k]!.imports) if (i.kind === 'import-statement') todo.push(i.path);
  }
  return [...first];
}

/** Inputs that put bytes into the given outputs. */
const inputsOf = (meta: Metafile, outputs: string[]) =>
  outputs.flatMap((o) =>
    Object.entries(meta.outputs[o]!.inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([f]) => f),
  );

describe('browser bundles of level-git', () => {
  let work: string;
  let app: string;
  const one: Record<string, Size & { inputs: string[] }> = {};
  const split: Record<string, Size & { inputs: string[] }> = {};

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'level-git-bundle-'));
    app = await layOutApp(work, 'app', ['browser-level', 'memory-level']);
    for (const [name, contents] of Object.entries(ENTRIES)) await writeFile(join(app, `${name}.js`), contents);
    await writeFile(join(app, 'uses-services.js'), USES_SERVICES);
    const common = { absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', minify: true, metafile: true, logLevel: 'warning' } as const;
    for (const name of Object.keys(ENTRIES)) {
      const r = await build({ ...common, entryPoints: [`${name}.js`], write: false, outfile: join(app, 'one', `${name}.js`) });
      const js = r.outputFiles[0]!.contents;
      one[name] = { bytes: js.length, gzip: gz([js]), inputs: inputsOf(r.metafile, Object.keys(r.metafile.outputs)) };
      const s = await build({ ...common, entryPoints: [`${name}.js`], write: false, outdir: join(app, 'split', name), splitting: true });
      const first = firstLoad(s.metafile, `${name}.js`);
      const files = s.outputFiles.filter((f) => first.includes(relative(app, f.path))).map((f) => f.contents);
      split[name] = { bytes: files.reduce((n, b) => n + b.length, 0), gzip: gz(files), inputs: inputsOf(s.metafile, first) };
    }
    const table = Object.keys(ENTRIES).map((n) => `| ${n} | ${kib(one[n]!.bytes)} | ${kib(one[n]!.gzip)} | ${kib(split[n]!.bytes)} | ${kib(split[n]!.gzip)} |`);
    console.log(['| page | one file, minified | gzip -9 | split: first load | gzip -9 |', ...table].join('\n'));
  }, 180_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('keeps openEngine + commit + readFile small: no review, archive, remote or webhook code, and no ingestion in its first load', () => {
    expect(one.core!.bytes).toBeLessThan(CORE_CEILING_KIB * 1024);
    expect(one.core!.inputs.filter((f) => REVIEW.test(f) || ARCHIVES.test(f) || REMOTES.test(f))).toEqual([]);
    expect(split.core!.inputs.filter((f) => INGEST.test(f))).toEqual([]);
    expect(split.core!.bytes).toBeLessThan(one.core!.bytes - 15 * 1024);
    // The SDK stays apart from the engine (it imports only errors.ts).
    expect(one.client!.bytes).toBeLessThan(12 * 1024);
    expect(one.client!.inputs.filter((f) => !/dist\/src\/(client\/[a-z-]+|errors)\.js$/.test(f))).toEqual(['client.js']);
  });

  it('adds a service only where the app enables it, and loads it on first use where the bundler splits', () => {
    expect(one.review!.inputs.filter((f) => REVIEW.test(f)).length).toBeGreaterThan(5);
    expect(one.review!.bytes).toBeGreaterThan(one.core!.bytes + 20 * 1024);
    expect(one.archives!.inputs.some((f) => ARCHIVES.test(f))).toBe(true);
    expect(one.remotes!.inputs.some((f) => REMOTES.test(f))).toBe(true);
    // Enabling review or archives installs a loader: the first load grows by a few hundred bytes.
    for (const name of ['review', 'archives', 'all']) expect(split[name]!.inputs.filter((f) => REVIEW.test(f) || ARCHIVES.test(f))).toEqual([]);
    expect(split.review!.bytes - split.core!.bytes).toBeLessThan(1024);
  });

  /** Runs the page's `run` from a bundle written to `dir`. */
  async function runBundle(dir: string, file = 'uses-services.js'): Promise<Record<string, unknown>> {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run: () => Promise<Record<string, unknown>> };
    return mod.run();
  }

  function expectServicesWork(r: Record<string, unknown>): void {
    expect(r.platform).toBe('portable');
    expect(r.refused).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('enableReview()') });
    expect(r.noArchive).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('enableArchives()') });
    expect(r).toMatchObject({ merged: true, files: ['a.txt', 'b.txt'], a: 'one\ntwo\nthree\nfour\n' });
    expect(r.tarBytes).toBeGreaterThan(1024);
  }

  it('merges, diffs and archives once enabled, from one esbuild file and from split chunks', async () => {
    const common = {
      absWorkingDir: app,
      entryPoints: ['uses-services.js'] as string[],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      logLevel: 'warning',
    } as const;
    await build({ ...common, outdir: join(app, 'run-one') });
    expect(await readdir(join(app, 'run-one'))).toEqual(['uses-services.js']);
    expectServicesWork(await runBundle(join(app, 'run-one')));
    await build({ ...common, outdir: join(app, 'run-split'), splitting: true });
    expect((await readdir(join(app, 'run-split'))).length).toBeGreaterThan(3); // the services' chunks
    expectServicesWork(await runBundle(join(app, 'run-split')));
  });

  it('builds with webpack 5 for the web, splits the services into chunks, and they work', async () => {
    const out = join(app, 'run-webpack');
    const stats = await new Promise<webpack.Stats>((ok, fail) =>
      webpack(
        {
          mode: 'production',
          context: app,
          target: ['web', 'es2022'],
          entry: { 'uses-services': './uses-services.js' },
          experiments: { outputModule: true },
          // ES module output so this test can import it; chunks load with import() as in a page.
          output: { path: out, module: true, library: { type: 'module' }, chunkFormat: 'module', chunkLoading: 'import', filename: '[name].js' },
          // Unminified: terser would double the time, and sizes are esbuild's above.
          optimization: { minimize: false },
          performance: { hints: false },
        },
        (err, s) => (err || !s ? fail(err) : ok(s)),
      ),
    );
    expect(stats.hasErrors() ? stats.toString('errors-only') : '').toBe('');
    const files = await readdir(out);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const js = await readFile(join(out, f), 'utf8');
      expect(js).not.toMatch(/["']node:[a-z_/]+["']/);
      // (unminified, it keeps the package's sourceMappingURL comments, whose maps it did not copy)
      await writeFile(join(out, f), js.replace(/^\/\/# sourceMappingURL=.*$/gm, ''));
    }
    expectServicesWork(await runBundle(out));
  }, 120_000);
});
