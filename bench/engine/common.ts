/**
 * Shared pieces of the engine-core benchmarks: real source files, git runners, tinybench
 * medians and the ratio table each bench prints. Benchmarks measure; they never assert.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { Bench } from 'tinybench';
import type { Repository } from '../../src/index.js';

export { realSourceFiles, collectBytes } from '../shared/files.js';

/** Git with a fixed identity and no user or system configuration. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_AUTHOR_DATE: '1700000000 +0000',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_COMMITTER_DATE: '1700000000 +0000',
};

/** Runs git, returning stdout. */
export function git(cwd: string, args: string[], input?: Uint8Array | string): Buffer {
  return execFileSync('git', args, { cwd, env: GIT_ENV, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Median latency (ms) of a finished task. */
export function median(bench: Bench, name: string): number {
  const t = bench.getTask(name);
  const r = t?.result;
  if (!r || !('latency' in r)) throw new Error(`task ${name} did not complete: ${JSON.stringify(r && 'error' in r ? String(r.error) : r)}`);
  return r.latency.p50;
}

/** Samples taken for a task. */
export function samples(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result;
  return r && 'latency' in r ? r.latency.samplesCount : 0;
}

/** One-line description of this machine. */
export function machine(): string {
  return `${cpus().length}× ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${execFileSync('git', ['--version']).toString().trim()}`;
}

/** Prints the rows as a markdown table: operation, level-git median, C git median, ratio. */
export function printRatios(title: string, rows: { op: string; ours: number; git: number; note?: string }[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| operation | level-git median | C git median | ratio (level-git / git) | note |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.op} | ${r.ours.toFixed(1)} ms | ${r.git.toFixed(1)} ms | ${(r.ours / r.git).toFixed(2)}× | ${r.note ?? ''} |`);
  console.log(`\nmachine: ${machine()}`);
}

/**
 * The history bench database of bench/engine/full-clone.ts and fetch.ts: into `repo` (a repository
 * just created in a database that did not exist), the whole of the bare repository at `from` as
 * one pack, then its branches. Prints the time the pack took to store.
 */
export async function storeHistory(repo: Repository, from: string): Promise<void> {
  const pack = git(from, ['pack-objects', '--all', '--stdout', '-q', '--delta-base-offset'], '');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < pack.length; i += 1 << 16) chunks.push(pack.subarray(i, i + (1 << 16)));
  const t = performance.now();
  await repo.indexPack(chunks);
  console.log(`stored ${(pack.length / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const refs = git(from, ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/']).toString().trim().split('\n');
  for (const line of refs) {
    const [name, sha] = line.split(' ');
    await repo.createBranch(name!, sha!);
  }
}
