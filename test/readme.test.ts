/**
 * The README's library snippet runs as written (imports mapped to the source), so the first
 * thing a newcomer pastes works.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withTempDir } from './helpers/tmp.js';

describe('README', () => {
  it('the library snippet runs', async () => {
    const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The library'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const src = pathToFileURL(resolve(__dirname, '..', 'src', 'index.ts')).href;
    await withTempDir('lg-readme-', async (dir) => {
      const file = join(dir, 'snippet.ts');
      writeFileSync(file, code.replace(/from 'level-git'/g, `from '${src}'`) + '\nexport const ran = true;\n');
      const mod = (await import(pathToFileURL(file).href)) as { ran: boolean };
      expect(mod.ran).toBe(true);
    });
  });
});
