/** The one way tests make temporary directories and remove them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system temp dir, and the cleanup that removes it. */
export function tempDir(prefix = 'level-git-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A registry of temp dirs: `make` creates one, `cleanup` removes all made so far. */
export function tempDirs(): { make(prefix?: string): string; cleanup(): void } {
  const made: (() => void)[] = [];
  return {
    make(prefix?: string) {
      const t = tempDir(prefix);
      made.push(t.cleanup);
      return t.dir;
    },
    cleanup() {
      for (const c of made.splice(0)) c();
    },
  };
}

/** Runs `fn` with a fresh temp dir and removes the dir afterwards, whether `fn` succeeds or throws. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => T | Promise<T>): Promise<T> {
  const t = tempDir(prefix);
  try {
    return await fn(t.dir);
  } finally {
    t.cleanup();
  }
}
