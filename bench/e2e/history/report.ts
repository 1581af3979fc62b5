/**
 * The history workload's table: one row per measurement, level-git beside C git as pushed
 * (`cgit`) and after gc (`cgit-gc`), the same-run ratio and issue 9's target for it.
 */
import type { Result } from '../../shared/measure.js';
import { ratio } from '../../shared/stats.js';
import { mdTable, textTable, type Row } from '../report.js';
import { FETCH_RUNS, type HistoryReport } from './workload.js';

const HEADER = ['measurement', 'level-git', 'cgit', 'cgit-gc', 'ratio', 'target', ''];

const secs = (ms: number | null | undefined): string => (ms == null || !Number.isFinite(ms) ? '–' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
const mib = (kb: number | null | undefined): string => (kb == null || !Number.isFinite(kb) ? '–' : `${(kb / 1024).toFixed(0)} MiB`);
const mbytes = (b: number | null | undefined): string =>
  b == null || !Number.isFinite(b) ? '–' : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`;
const num = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');

/** The history table's rows, with each target checked. */
export function historyRows(h: HistoryReport): { rows: Row[]; failures: string[] } {
  const rows: Row[] = [];
  const failures = new Set<string>();
  const at = (workload: string, server: string): Result | undefined => h.results.find((r) => r.workload === workload && r.server === server);
  const failed = (r: Result | undefined): string | null => {
    if (r === undefined || r.time.n > 0) return null;
    failures.add(`${r.workload} on ${r.server} failed: ${r.firstError ?? '?'}`);
    return 'failed';
  };
  const cell = (r: Result | undefined, v: (r: Result) => string): string => failed(r) ?? (r === undefined ? '–' : v(r));
  const add = (name: string, cells: [string, string, string], value: number, op: '<=' | '' = '', limit?: number, note = ''): void => {
    const target = op === '' || limit === undefined ? '(info)' : `≤ ${limit}${note}`;
    const verdict = op === '' || limit === undefined ? '' : !Number.isFinite(value) ? 'not measured' : value <= limit ? 'met' : 'missed';
    rows.push({ cells: [name, ...cells, num(value), target, verdict] });
  };
  const time = (w: string, s: string): number | undefined => {
    const r = at(w, s);
    return r !== undefined && r.time.n > 0 ? r.time.median : undefined;
  };
  const cpu = (w: string, s: string): number | undefined => at(w, s)?.cpuMeanMs ?? undefined;
  const timeCells = (w: string): [string, string, string] => [
    cell(at(w, 'level-git'), (r) => secs(r.time.median)),
    cell(at(w, 'cgit'), (r) => secs(r.time.median)),
    cell(at(w, 'cgit-gc'), (r) => secs(r.time.median)),
  ];
  const cpuCells = (w: string): [string, string, string] => [
    cell(at(w, 'level-git'), (r) => secs(r.cpuMeanMs)),
    cell(at(w, 'cgit'), (r) => secs(r.cpuMeanMs)),
    cell(at(w, 'cgit-gc'), (r) => secs(r.cpuMeanMs)),
  ];
  const rssCells = (w: string): [string, string, string] => [
    cell(at(w, 'level-git'), (r) => mib(r.peakRssKb)),
    cell(at(w, 'cgit'), (r) => mib(r.peakRssKb)),
    cell(at(w, 'cgit-gc'), (r) => mib(r.peakRssKb)),
  ];
  const wireCells = (w: string): [string, string, string] => [
    cell(at(w, 'level-git'), (r) => mbytes(r.bytes)),
    cell(at(w, 'cgit'), (r) => mbytes(r.bytes)),
    cell(at(w, 'cgit-gc'), (r) => mbytes(r.bytes)),
  ];

  // Push: a failed push shows its reason; its RSS is the peak seen before it failed.
  const lgPush = at('push', 'level-git');
  add('push of the whole history: time', timeCells('push'), ratio(time('push', 'level-git'), time('push', 'cgit')), '<=', 1);
  const pushRss: [string, string, string] = [mib(lgPush?.samples[0]?.peakRssKb), mib(at('push', 'cgit')?.peakRssKb), '–'];
  const lgRssMiB = (lgPush?.samples[0]?.peakRssKb ?? Number.NaN) / 1024;
  rows.push({
    cells: [
      'push: server peak RSS',
      ...pushRss,
      num(ratio(lgPush?.samples[0]?.peakRssKb ?? undefined, at('push', 'cgit')?.peakRssKb ?? undefined)),
      '≤ 1024 MiB',
      !Number.isFinite(lgRssMiB) ? 'not measured' : lgRssMiB > 1024 ? 'missed' : lgPush?.errors ? 'push failed' : 'met',
    ],
  });
  add('push: server CPU', cpuCells('push'), ratio(cpu('push', 'level-git'), cpu('push', 'cgit')));
  add(
    "after the push, before the first clone: level-git's server CPU (its work after a push) / C git's `git gc` time",
    [secs(h.afterPushCpuMs ?? undefined), '–', secs(h.gcMs ?? undefined)],
    ratio(h.afterPushCpuMs ?? undefined, h.gcMs ?? undefined),
  );
  add(
    'push: bytes on the wire',
    [mbytes(lgPush?.samples[0]?.bytes), mbytes(at('push', 'cgit')?.bytes), '–'],
    ratio(lgPush?.samples[0]?.bytes, at('push', 'cgit')?.bytes ?? undefined),
  );
  const sb = h.storedBytes;
  add(
    'stored bytes once the push settled (database folder / bare repository)',
    [mbytes(sb['level-git settled']), mbytes(sb.cgit), mbytes(sb['cgit-gc'])],
    ratio(sb['level-git settled'] ?? undefined, sb.cgit ?? undefined),
    '<=',
    1.3,
  );
  add(
    'stored bytes right after the push (level-git: write-ahead log not yet flushed)',
    [mbytes(sb['level-git']), mbytes(sb.cgit), mbytes(sb['cgit-gc'])],
    ratio(sb['level-git'] ?? undefined, sb.cgit ?? undefined),
  );
  add(
    'stored bytes at rest (level-git: after the clones, server stopped)',
    [mbytes(sb['level-git at rest']), mbytes(sb.cgit), mbytes(sb['cgit-gc'])],
    ratio(sb['level-git at rest'] ?? undefined, sb.cgit ?? undefined),
  );
  add('full clone: time', timeCells('full'), ratio(time('full', 'level-git'), time('full', 'cgit')), '<=', 1);
  add('full clone: time / C git after gc', timeCells('full'), ratio(time('full', 'level-git'), time('full', 'cgit-gc')), '<=', 1);
  add('full clone: server CPU / C git after gc', cpuCells('full'), ratio(cpu('full', 'level-git'), cpu('full', 'cgit-gc')), '<=', 0.5);
  // C git's CPU above is its CGI processes'; the HTTP front writing their output to the socket
  // (the bench's node:http wrapper) is apart, while level-git's own CPU includes its HTTP.
  const withFront = (w: string, s: string): number | undefined => {
    const r = at(w, s);
    return r?.cpuMeanMs == null ? undefined : r.cpuMeanMs + (r.frontCpuMeanMs ?? 0);
  };
  add(
    'full clone: server CPU, C git with its HTTP front (the CGI wrapper) / C git after gc',
    [
      cell(at('full', 'level-git'), (r) => secs(r.cpuMeanMs)),
      cell(at('full', 'cgit'), () => secs(withFront('full', 'cgit'))),
      cell(at('full', 'cgit-gc'), () => secs(withFront('full', 'cgit-gc'))),
    ],
    ratio(cpu('full', 'level-git'), withFront('full', 'cgit-gc')),
  );
  const first = (step: string, s: string): number | undefined => {
    const x = at(step, s)?.samples[0];
    return x?.ok ? x.ms : undefined;
  };
  const firstCells = (step: string): [string, string, string] => [secs(first(step, 'level-git')), secs(first(step, 'cgit')), secs(first(step, 'cgit-gc'))];
  add('full clone: first run (the first full clone the server answers)', firstCells('full'), ratio(first('full', 'level-git'), first('full', 'cgit')));
  add('full clone: server peak RSS', rssCells('full'), ratio(at('full', 'level-git')?.peakRssKb ?? undefined, at('full', 'cgit')?.peakRssKb ?? undefined));
  add('full clone: bytes on the wire', wireCells('full'), ratio(at('full', 'level-git')?.bytes ?? undefined, at('full', 'cgit')?.bytes ?? undefined));
  add('fetch of the 10 newest commits: time', timeCells('fetch'), ratio(time('fetch', 'level-git'), time('fetch', 'cgit')), '<=', 1);
  add('fetch: first run (the first fetch the server answers)', firstCells('fetch'), ratio(first('fetch', 'level-git'), first('fetch', 'cgit')));
  add('fetch: server CPU / C git after gc', cpuCells('fetch'), ratio(cpu('fetch', 'level-git'), cpu('fetch', 'cgit-gc')));
  add('fetch: bytes on the wire', wireCells('fetch'), ratio(at('fetch', 'level-git')?.bytes ?? undefined, at('fetch', 'cgit')?.bytes ?? undefined));
  add('depth-1 clone, warm: time', timeCells('depth1'), ratio(time('depth1', 'level-git'), time('depth1', 'cgit')), '<=', 0.5);
  add('depth-1 clone, warm: server CPU / C git after gc', cpuCells('depth1'), ratio(cpu('depth1', 'level-git'), cpu('depth1', 'cgit-gc')));
  add('depth-1 clone, cold (fresh server): time', timeCells('depth1-cold'), ratio(time('depth1-cold', 'level-git'), time('depth1-cold', 'cgit')), '<=', 0.5);
  add(
    'depth-1 clone, cold: server CPU / C git after gc',
    cpuCells('depth1-cold'),
    ratio(cpu('depth1-cold', 'level-git'), cpu('depth1-cold', 'cgit-gc')),
    '<=',
    0.5,
  );
  const sw = h.sweep;
  const walk = h.walk;
  const swFail = sw !== null && !sw.ok ? 'failed' : null;
  if (swFail !== null) failures.add(`sweep failed: ${sw?.error ?? '?'}`);
  const walkNote = 'cgit: `git rev-list --objects --all`';
  add(`sweep of the stored history: time (${walkNote})`, [swFail ?? secs(sw?.ms), secs(walk?.ms), '–'], ratio(sw?.ms ?? undefined, walk?.ms ?? undefined));
  add('sweep: CPU', [swFail ?? secs(sw?.cpuMs), secs(walk?.cpuMs), '–'], ratio(sw?.cpuMs ?? undefined, walk?.cpuMs ?? undefined));
  add('sweep: peak RSS', [swFail ?? mib(sw?.peakRssKb), mib(walk?.peakRssKb), '–'], ratio(sw?.peakRssKb ?? undefined, walk?.peakRssKb ?? undefined));
  // What an agent platform pays each interval: the sweep after one ephemeral commit expired (from the mark record).
  const again = sw?.again;
  add(
    `sweep after an ephemeral branch expired: time / CPU (objects removed)`,
    [swFail ?? (again ? `${secs(again.ms)} / ${secs(again.cpuMs)} (${again.objects})` : '–'), secs(walk?.ms), '–'],
    ratio(again?.ms, walk?.ms ?? undefined),
  );
  // The first full clone after the sweep, in the sweep's process (no HTTP, no client): made from
  // the sweep's mark record, against planned from nothing (what the full clone step's first run did).
  const fc = sw?.firstClone;
  const cost = (c: { ms: number; cpuMs: number; fromMark: boolean } | undefined): string =>
    c === undefined ? '–' : `${secs(c.ms)} / ${secs(c.cpuMs)}${c.fromMark ? '' : ' (planned)'}`;
  add(
    'first full clone after the sweep, in process, from the mark record: time / CPU (ratio: CPU / planned)',
    [swFail ?? cost(fc?.fromMark), '–', '–'],
    ratio(fc?.fromMark.cpuMs, fc?.planned.cpuMs),
  );
  add('the same planned from nothing: time / CPU', [swFail ?? cost(fc?.planned), '–', '–'], Number.NaN);
  return { rows, failures: [...failures] };
}

function intro(h: HistoryReport): string {
  const f = h.fixture;
  const p = h.params;
  return (
    `History scale: ${f.id}, ${f.label}; tip ${f.files} files, ${(f.bytes / 1e6).toFixed(1)} MB. ` +
    `Up to ${p.runs} runs per server and step (the push: one; the fetch: at least ${FETCH_RUNS}; medians; CPU: means), each step bounded at ${p.timeoutS} s, ` +
    `level-git's heap at ${p.heapMb} MiB${p.fullPacks ? ', full-clone packs stored (--history-full-packs)' : ''}. git gc of C git's copy: ${secs(h.gcMs)}.`
  );
}

/** The console version. */
export function formatHistoryText(h: HistoryReport): string {
  const { rows, failures } = historyRows(h);
  return [intro(h), '', textTable(HEADER, rows), ...[...failures, ...h.notes].map((n) => `note: ${n}`)].join('\n');
}

/** The Markdown version (docs/benchmarks.md, History scale). */
export function formatHistoryMarkdown(h: HistoryReport): string {
  const { rows, failures } = historyRows(h);
  return [intro(h), '', mdTable(HEADER, rows), '', ...[...failures, ...h.notes].map((n) => `- ${n}`)].join('\n').trimEnd() + '\n';
}
