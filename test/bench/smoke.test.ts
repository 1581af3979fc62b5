/**
 * Smoke test of the benchmark harness (no registry, no network): C git's http-backend CGI
 * server and the replay floor serve a depth-1 clone of a tiny `git init` fixture, and the
 * measurements come out as numbers. Also checks the statistics and the report writers.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/shared/args.js';
import { git, gitOk, removeBenchGitHome } from '../../bench/shared/exec.js';
import { measure, toResult } from '../../bench/shared/measure.js';
import { quantile, summarize } from '../../bench/shared/stats.js';
import { tinyFixture, type Fixture } from '../../bench/e2e/fixtures/fixtures.js';
import { computeRatios, depth1Chart, formatMarkdown } from '../../bench/e2e/report.js';
import { startHttpBackend } from '../../bench/e2e/servers/http-backend.js';
import { startLevelGit } from '../../bench/e2e/servers/level-git.js';
import { startReplay, type ReplayServer } from '../../bench/e2e/servers/replay.js';
import type { BenchServer } from '../../bench/shared/server-types.js';
import type { SuiteReport } from '../../bench/e2e/suite.js';
import { tempDir } from '../helpers/tmp.js';

let work: string;
let cleanupWork: (() => void) | undefined;
let fixture: Fixture;
let cgit: BenchServer & { pid: number };
let floor: ReplayServer;
let seq = 0;

const depth1 = (s: BenchServer) => async () => {
  const dest = join(work, `clone-${seq++}`);
  const r = await git(['clone', '--quiet', '--depth', '1', '--single-branch', s.url('tiny'), dest]);
  const ok = r.code === 0 && existsSync(join(dest, 'd0', 'f0.txt'));
  const shallow = ok ? await gitOk(['rev-list', '--count', 'HEAD'], dest) : '';
  rmSync(dest, { recursive: true, force: true });
  return { ms: r.ms, ok: ok && shallow === '1', error: r.stderr };
};

beforeAll(async () => {
  ({ dir: work, cleanup: cleanupWork } = tempDir('level-git-bench-smoke-'));
  fixture = await tinyFixture(join(work, 'src'), 40, 3);
  mkdirSync(join(work, 'root'));
  cgit = await startHttpBackend(join(work, 'root'), 'cgit');
  floor = await startReplay();
  await cgit.createRepo('tiny');
  await gitOk(['push', '--quiet', cgit.url('tiny'), 'main:refs/heads/main'], fixture.dir);
});

afterAll(async () => {
  await floor?.stop();
  await cgit?.stop();
  cleanupWork?.();
  removeBenchGitHome();
});

describe('bench harness', () => {
  it('serves a depth-1 clone through C git http-backend and measures it', async () => {
    expect(fixture.files).toBe(40);
    expect(fixture.commits).toBe(3);
    const sample = await measure(cgit, depth1(cgit));
    expect(sample.ok, sample.error).toBe(true);
    expect(sample.ms).toBeGreaterThan(0);
    expect(typeof sample.cpuMs).toBe('number');
    expect(sample.cpuMs).toBeGreaterThanOrEqual(0);
    expect(sample.bytes).toBeGreaterThan(100);
    if (existsSync('/usr/bin/time')) expect(sample.peakRssKb).toBeGreaterThan(0);
    // The CGI wrapper's own CPU (the HTTP front) is measured apart from the CGI's.
    expect(typeof sample.frontCpuMs).toBe('number');
    expect(sample.frontCpuMs).toBeGreaterThanOrEqual(0);
    expect(toResult('depth1', 'tiny', 'cgit', [sample]).frontCpuMeanMs).toBe(sample.frontCpuMs);
  });

  it('accepts a push through the CGI server', async () => {
    await cgit.createRepo('pushed');
    const sample = await measure(
      cgit,
      async () => {
        const r = await git(['push', '--quiet', cgit.url('pushed'), 'main:refs/heads/main'], fixture.dir);
        return { ms: r.ms, ok: r.code === 0, error: r.stderr };
      },
      'receive',
    );
    expect(sample.ok, sample.error).toBe(true);
    expect(sample.bytes).toBeGreaterThan(100);
    expect(readdirSync(join(work, 'root', 'pushed.git', 'refs', 'heads'))).toContain('main');
  });

  it('replays recorded responses from memory, and misses what it never saw', async () => {
    floor.record(new URL(cgit.url('x')).origin);
    const recorded = await depth1(floor)();
    expect(recorded.ok, recorded.error).toBe(true);
    floor.replay();
    expect(floor.size().entries).toBeGreaterThanOrEqual(3);

    const samples = [];
    for (let i = 0; i < 3; i++) samples.push(await measure(floor, depth1(floor)));
    for (const s of samples) {
      expect(s.ok, s.error).toBe(true);
      expect(s.bytes).toBeGreaterThan(100);
      expect(s.cpuMs).toBeNull();
    }
    const result = toResult('depth1', 'tiny', 'floor', samples);
    expect(result.time.n).toBe(3);
    expect(Number.isFinite(result.time.median)).toBe(true);
    expect(Number.isFinite(result.time.p95)).toBe(true);

    // A full clone sends a different fetch request: no recording, so it must fail.
    const miss = await measure(floor, async () => {
      const dest = join(work, `clone-${seq++}`);
      const r = await git(['clone', '--quiet', floor.url('tiny'), dest]);
      rmSync(dest, { recursive: true, force: true });
      return { ms: r.ms, ok: r.code === 0 };
    });
    expect(miss.ok).toBe(false);
  });

  it('starts level-git, compiled, in its own process and serves a depth-1 clone from it', async () => {
    const lg = await startLevelGit(join(work, 'lg-data'));
    try {
      await lg.createRepo('tiny');
      await gitOk(['push', '--quiet', lg.url('tiny'), 'main:refs/heads/main'], fixture.dir);
      const sample = await measure(lg, depth1(lg));
      expect(sample.ok, sample.error).toBe(true);
    } finally {
      await lg.stop();
    }
  });

  it('writes ratios, Markdown and a chart from results', async () => {
    const mk = (server: string, ms: number, cpu: number | null) =>
      toResult(
        'depth1',
        'tiny',
        server,
        [1, 2, 3].map((k) => ({ ms: ms * k, cpuMs: cpu, bytes: 1000, peakRssKb: null, ok: true })),
      );
    const report: SuiteReport = {
      meta: {
        date: new Date().toISOString(),
        git: '2.39',
        node: process.version,
        cpus: 2,
        cpuModel: 'x',
        runs: 3,
        quick: true,
        checkout: true,
        floorSource: 'level-git',
        commit: 'abc',
        remote: null,
        servers: ['level-git', 'cgit', 'cgit-gc', 'floor'],
      },
      fixtures: [fixture],
      results: [mk('level-git', 110, 10), mk('cgit', 200, 40), mk('cgit-gc', 150, 30), mk('floor', 100, null)],
      concurrency: [],
      notes: [],
    };
    const ratios = computeRatios(report);
    const vsFloor = ratios.find((r) => r.name === 'depth1 tiny: level-git / floor')!;
    expect(vsFloor.value).toBeCloseTo(1.1);
    expect(vsFloor.pass).toBe(true);
    const cpu = ratios.find((r) => r.name === 'depth1 tiny: server CPU level-git / cgit-gc')!;
    expect(cpu.value).toBeCloseTo(1 / 3);
    const md = formatMarkdown(report, ratios, 'chart.svg');
    expect(md).toContain('| depth1 | tiny | level-git |');
    const svg = depth1Chart(report)!;
    expect(svg.match(/<rect /g)!.length).toBeGreaterThanOrEqual(1 + 4 + 4);
  });
});

describe('bench statistics and flags', () => {
  it('computes medians and interpolated p95', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(
      quantile(
        Array.from({ length: 21 }, (_, i) => i),
        0.95,
      ),
    ).toBe(19);
    const s = summarize([5, 1, 9, 3, 7, 2, 8]);
    expect(s).toMatchObject({ n: 7, median: 5, min: 1, max: 9 });
    expect(s.mean).toBeCloseTo(5);
    expect(Number.isNaN(summarize([]).median)).toBe(true);
  });

  it('parses flags', () => {
    expect(parseArgs(['--quick']).runs).toBe(3);
    expect(parseArgs(['--quick', '--runs', '9']).runs).toBe(9);
    expect(parseArgs(['--only', 'depth1,push']).only).toEqual(['depth1', 'push']);
    expect(parseArgs(['--remote=http://example.com/x.git']).remote).toBe('http://example.com/x.git');
    expect(() => parseArgs(['--only', 'nope'])).toThrow(/unknown workload/);
    expect(() => parseArgs(['--runs', '0'])).toThrow();
    expect(parseArgs([]).history.fullPacks).toBe(false);
    expect(parseArgs(['--history-full-packs']).history.fullPacks).toBe(true);
    expect(parseArgs([]).fromSources).toBe(false);
    expect(parseArgs(['--from-sources']).fromSources).toBe(true);
  });
});
