/**
 * Order-of-magnitude timing (printed, not asserted): read a ~20 MB pack that git made from a
 * real tree (this project's node_modules, minus the two largest native packages), and write
 * its verbatim entries back out. Compared with `git index-pack` on the same pack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPack } from '../../src/pack/pack-reader.js';
import { writePack } from '../../src/pack/pack-writer.js';
import { chunks, asAsync, git, tempDir } from './git-helpers.js';

const source = join(process.cwd(), 'node_modules');

describe.skipIf(!existsSync(source))('pack timing', () => {
  let tmp: ReturnType<typeof tempDir>;
  let pack: Uint8Array;
  let bare: string;
  beforeAll(() => {
    tmp = tempDir();
    bare = join(tmp.dir, 'timing.git');
    const run = (args: string[], input?: string) => git(undefined, [`--git-dir=${bare}`, ...args], input);
    git(undefined, ['init', '-q', '--bare', bare]);
    // Index the files in place (git reads node_modules, writes only into the temp repo).
    // The browser test's driver (puppeteer-core and its protocol packages) is left out too: the
    // tree this timing measured before it, whose pack readPack reads with its default base cache
    // (with them, a delta base is evicted before its last use: LimitExceededError). The native
    // binaries (biome, esbuild, lightningcss: 130 MB) are left out as well: with them the pack is
    // 63 MB of barely compressible bytes instead of ~20 MB, and git alone takes a minute of CPU.
    run([
      `--work-tree=${source}`,
      'add',
      '-A',
      '-f',
      '--',
      '.',
      ':(exclude)@typescript',
      ':(exclude)@rolldown',
      ':(exclude)puppeteer-core',
      ':(exclude)chromium-bidi',
      ':(exclude)devtools-protocol',
      ':(exclude)@biomejs',
      ':(exclude)@esbuild',
      ':(exclude)esbuild/bin',
      ':(exclude)lightningcss-*',
      ':(exclude).vite',
    ]);
    const tree = run(['write-tree']).toString().trim();
    const commit = run(['commit-tree', tree, '-m', 'node_modules']).toString().trim();
    pack = new Uint8Array(run(['pack-objects', '--revs', '--stdout', '-q'], `${commit}\n`));
  }, 120_000);
  afterAll(() => tmp?.cleanup());

  it('reads and rewrites a pack of a real tree', async () => {
    const objectCount = new DataView(pack.buffer, pack.byteOffset).getUint32(8);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const lines: string[] = [];
    for (let rep = 0; rep < 2; rep++) {
      let t = performance.now();
      let n = 0;
      let inflated = 0;
      const entries: Uint8Array[] = [];
      for await (const batch of readPack(asAsync(chunks(pack, 64 * 1024)))) {
        n += batch.length;
        for (const o of batch) {
          inflated += o.body.length;
          if (o.entry) entries.push(o.entry);
        }
      }
      const readMs = performance.now() - t;
      expect(n).toBe(objectCount);
      t = performance.now();
      let written = 0;
      for await (const c of writePack(entries.length, entries)) written += c.length;
      const writeMs = performance.now() - t;
      lines.push(
        `readPack: ${n} objects, pack ${mb(pack.length)} MB (${mb(inflated)} MB inflated, ${n - entries.length} deltas) in ${readMs.toFixed(0)} ms ` +
          `= ${mb(pack.length / (readMs / 1000))} MB/s; writePack of ${entries.length} verbatim entries (${mb(written)} MB) in ${writeMs.toFixed(0)} ms`,
      );
    }
    const t = performance.now();
    git(undefined, [`--git-dir=${bare}`, 'index-pack', '--stdin'], pack);
    lines.push(`git index-pack --stdin on the same pack: ${(performance.now() - t).toFixed(0)} ms`);
    console.log(lines.join('\n'));
  }, 120_000);
});
