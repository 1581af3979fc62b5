import { join } from 'node:path';
import { openEngine } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { gitE2ESuite } from './git-e2e-suite.js';

gitE2ESuite('real engine on the on-disk default', async () => {
  const { dir, cleanup } = tempDir('level-git-engine-');
  const engine = await openEngine({ path: join(dir, 'db') });
  return {
    engine: { gitBackend: (name, opts) => engine.gitBackend(name, opts) },
    async createRepo(name: string) {
      await engine.createRepo(name, { defaultBranch: 'main' });
    },
    async close() {
      await engine.close();
      cleanup();
    },
  };
});
