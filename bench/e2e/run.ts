/**
 * `npm run bench -- [flags]`: the end-to-end benchmark of level-git against C git's
 * `git http-backend` and a replay floor, with the stock `git` client. See docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, USAGE } from '../shared/args.js';
import { computeRatios, formatText, writeOutputs } from './report.js';
import { runServerFrom } from './servers/build.js';
import { PROJECT_ROOT } from './servers/control.js';
import { runSuite, type SuiteReport } from './suite.js';

async function main(): Promise<void> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = performance.now();
  runServerFrom(opts.fromSources ? 'sources' : 'build');
  const report: SuiteReport =
    opts.from !== null ? (JSON.parse(readFileSync(opts.from, 'utf8')) as SuiteReport) : await runSuite(opts, (line) => process.stderr.write(`${line}\n`));
  const ratios = computeRatios(report);
  process.stdout.write(`\n${formatText(report, ratios)}\n`);
  const out = writeOutputs(report, join(PROJECT_ROOT, 'bench', 'results'), opts.docs ? join(PROJECT_ROOT, 'docs') : null);
  process.stderr.write(`\nwrote ${out.json}\n      ${out.markdown}${out.chart ? `\n      ${out.chart}` : ''}\n`);
  process.stderr.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
