import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Three projects (test/README.md). `unit`: no git binary, no servers, no child processes —
 * files named `*.unit.test.ts`, plus the older files listed below that already qualify; the
 * setup file makes spawning or listening throw there. Unit files share worker threads and
 * their module cache (`isolate: false`: less than half the CPU of a fresh fork per file), so a
 * unit test leaves module state as it found it. `full`: every other test file, each in its own
 * fork, two at a time. `alone`: the e2e files that assert a server's memory, `/healthz`
 * latency or timer turns under a heavy load of their own; they run one at a time after the
 * others, so no other test's CPU lands in their measurements. `npm test` runs all three,
 * `npm run test:unit` only the first.
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

/**
 * Files whose assertions are resource bounds of a loaded process (RSS, `/healthz` latency,
 * timer turns) close to what it measures: run alone. (test/cli/streaming.e2e.test.ts is not
 * here: its bounds are 30 and 9 times what it measures, and 10 s of it is an idle wait.)
 */
const ALONE_FILES = [
  'test/http/big-delta.e2e.test.ts',
  'test/http/big-object.e2e.test.ts',
  'test/http/ingest-attacks.e2e.test.ts',
  'test/api/commit-budget.test.ts',
];

/**
 * The longest files of the parallel group, longest first (seconds on the idle 2-core machine,
 * in the comment): started first, they do not leave one worker finishing a long file while
 * the other is idle. Every other file follows in vitest's own order (last run's durations, or
 * the largest file first in a fresh clone).
 */
const LONGEST_FIRST = [
  'test/repo/plan-differential.test.ts', // 70
  'test/http/push-edge-cases.test.ts', // 36
  'test/cli/streaming.e2e.test.ts', // 35
  'test/http/client-edge-cases.test.ts', // 22
  'test/pack/pack-timing.test.ts', // 20
  'test/browser/bundle.test.ts', // 20
  'test/postgres/scale-out.e2e.test.ts', // 15
  'test/postgres/ref-lock-race.test.ts', // 15
  'test/remote/webhooks.test.ts', // 15
  'test/cli/serve.e2e.test.ts', // 13
  'test/remote/remotes.test.ts', // 13
  'test/storage/stored-size.test.ts', // 12
  'test/cli/serve-ops.e2e.test.ts', // 12
];

/** vitest's order, with the files of LONGEST_FIRST moved to the front in that order. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (s: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((f) => s.moduleId.endsWith(`/${f}`));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two at a time on a 2-core machine (vitest's default there is one): most files wait on git
    // processes or servers for much of their time.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT_FILES, setupFiles: ['test/helpers/unit-guard.ts'], pool: 'threads', isolate: false },
      },
      {
        extends: true,
        test: { name: 'full', include: ['test/**/*.test.ts'], exclude: [...UNIT_FILES, ...ALONE_FILES] },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE_FILES, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
