/**
 * `level-git/client` bundles for a browser as it is: esbuild with `--platform=browser` and no
 * stand-ins finds no Node import, and the SDK stays small (it carries no engine code).
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

describe('level-git/client in a browser bundle', () => {
  it('bundles with platform browser, without node: imports or engine code', async () => {
    const entry = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));
    const out = await build({
      stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(inputs.filter((p) => /src\/(engine|repo|pack|storage|platform)\//.test(p))).toEqual([]);
    const bytes = out.outputFiles[0]!.contents;
    // Generous: the SDK is a few KiB; the engine's bundle is hundreds.
    expect(bytes.length).toBeLessThan(40 * 1024);
    expect(gzipSync(bytes).length).toBeLessThan(12 * 1024);
  });
});
