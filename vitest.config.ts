import { defineConfig } from 'vitest/config';

/**
 * Two tiers (test/README.md). `unit`: no git binary, no servers, no child processes — files
 * named `*.unit.test.ts`, plus the older files listed below that already qualify; the setup
 * file makes spawning or listening throw there. Unit files share worker threads and their
 * module cache (`isolate: false`: less than half the CPU of a fresh fork per file), so a
 * unit test leaves module state as it found it. `full`: every other test file, each in its
 * own fork. `npm test` runs both, `npm run test:unit` only the first.
 */
const UNIT_FILES = [
  'test/**/*.unit.test.ts',
  // Older fast files, kept where they are (a new fast test is named *.unit.test.ts instead).
  'test/access/ephemeral.test.ts',
  'test/access/policy.test.ts',
  'test/access/tokens.test.ts',
  'test/api/api.test.ts',
  'test/engine/delete.test.ts',
  'test/engine/memory.test.ts',
  'test/engine/sublevel.test.ts',
  'test/object/tree-order.test.ts',
  'test/pack/delta.test.ts',
  'test/pack/entry.test.ts',
  'test/platform/platform.test.ts',
  'test/protocol/pkt-line.test.ts',
  'test/protocol/receive-pack.test.ts',
  'test/protocol/sideband.test.ts',
  'test/refs/bulk-names.test.ts',
  'test/refs/transaction-model.test.ts',
  'test/repo/commit-roundtrip.test.ts',
  'test/repo/sweep-guard.test.ts',
  'test/repo/want-visibility.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT_FILES, setupFiles: ['test/helpers/unit-guard.ts'], pool: 'threads', isolate: false },
      },
      {
        extends: true,
        test: { name: 'full', include: ['test/**/*.test.ts'], exclude: UNIT_FILES },
      },
    ],
  },
});
