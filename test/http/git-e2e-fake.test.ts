import { NotFoundError } from '../../src/errors.js';
import { GitDirBackend } from '../protocol/fake-backend.js';
import { gitE2ESuite } from './git-e2e-suite.js';

gitE2ESuite('fake git-dir backend', async () => {
  const repos = new Map<string, GitDirBackend & { cleanup(): void }>();
  return {
    engine: {
      async gitBackend(name: string) {
        const b = repos.get(name);
        if (!b) throw new NotFoundError('ERR_REPO_NOT_FOUND', `no repository ${name}`);
        return b;
      },
    },
    async createRepo(name: string) {
      repos.set(name, await GitDirBackend.create());
    },
    async close() {
      for (const b of repos.values()) b.cleanup();
    },
  };
});
