import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../src/index.js';
import { gitE2ESuite } from './git-e2e-suite.js';

gitE2ESuite('real engine on the on-disk default', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'level-git-engine-'));
  const engine = await openEngine({ path: join(dir, 'db') });
  return {
    engine: { gitBackend: (name, opts) => engine.gitBackend(name, opts) },
    async createRepo(name: string) {
      await engine.createRepo(name, { defaultBranch: 'main' });
    },
    async close() {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
