/** The engine conformance suite over the embedded on-disk default (`openEngine({ path })`). */
import { conformance } from './conformance.js';
import { diskFactory } from './helpers.js';

conformance('on-disk default (classic-level)', diskFactory);

import { describe, expect, it } from 'vitest';
import { openEngine } from '../../src/index.js';
import { withTempDir } from '../helpers/tmp.js';

describe('on-disk default: opening', () => {
  it('a database locked by another engine is a typed ERR_STORAGE, and the first engine keeps working', async () => {
    await withTempDir('lg-lock-', async (dir) => {
      const first = await openEngine({ path: dir });
      await first.createRepo('kept');
      await expect(openEngine({ path: dir })).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
      expect((await first.listRepos()).map((r) => r.name)).toEqual(['kept']);
      await first.close();
    });
  });
});
