/**
 * abstract-level's own test suite over PostgresLevel: its conformance test. The suite is
 * written for tape, so it runs in a child process (abstract-level-runner.ts) whose TAP output
 * is checked here: every assertion must pass, and the run must report them all.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePostgres, startPostgres, findPostgres, type PostgresServer } from './server.js';

const run = (env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/postgres/abstract-level-runner.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });

describe.skipIf(!havePostgres())('PostgresLevel: abstract-level test suite', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres(findPostgres() as never);
  });
  afterAll(() => server?.stop());

  it('passes every assertion of abstract-level/test, on the database and in a sublevel', async () => {
    const { code, out } = await run({ LEVEL_GIT_TEST_PG: server.connectionString });
    const failures = out.split('\n').filter((l) => l.startsWith('not ok'));
    const total = Number(/^# tests (\d+)$/m.exec(out)?.[1] ?? 0);
    const passed = Number(/^# pass\s+(\d+)$/m.exec(out)?.[1] ?? 0);
    expect(failures, out.slice(-4000)).toEqual([]);
    expect(code, out.slice(-4000)).toBe(0);
    // The suite has about 4,300 assertions (half of them again inside a sublevel): a run that
    // stops early must not look like a pass.
    expect(total).toBeGreaterThan(4000);
    expect(passed).toBe(total);
  }, 300_000);
});
