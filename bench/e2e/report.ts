/**
 * Turns a SuiteReport into what people read: same-run ratios checked against the project's
 * targets, a console table, a Markdown section, a JSON file and an SVG chart of depth-1
 * clone time per server and tree size.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ratio } from '../shared/stats.js';
import type { Result } from '../shared/measure.js';
import type { SuiteReport } from './suite.js';
import { formatHistoryMarkdown, formatHistoryText } from './history/report.js';
import { formatPostgres, postgresRatios } from './postgres/report.js';

/** One comparison measured within the same run. */
export interface RatioRow {
  name: string;
  value: number;
  /** e.g. "≤ 1.25"; empty when informative only. */
  target: string;
  pass: boolean | null;
}

const find = (r: SuiteReport, workload: string, fixture: string, server: string): Result | undefined =>
  r.results.find((x) => x.workload === workload && x.fixture === fixture && x.server === server && x.time.n > 0);

function check(value: number, op: '<=' | '>=', limit: number): boolean | null {
  if (!Number.isFinite(value)) return null;
  return op === '<=' ? value <= limit : value >= limit;
}

/** Every ratio the targets speak of, computed from medians (CPU: means) of the same run. */
export function computeRatios(r: SuiteReport): RatioRow[] {
  const rows: RatioRow[] = [];
  const add = (name: string, value: number, op?: '<=' | '>=', limit?: number): void => {
    rows.push({
      name,
      value,
      target: op && limit !== undefined ? `${op === '<=' ? '≤' : '≥'} ${limit}` : '',
      pass: op && limit !== undefined ? check(value, op, limit) : null,
    });
  };
  const pairs = new Set(r.results.map((x) => `${x.workload}\u0000${x.fixture}`));
  // Targets apply to level-git as shipped; level-git-cold (pack cache off) is shown for information.
  for (const variant of ['level-git', 'level-git-cold']) {
    const t = <T>(v: T): T | undefined => (variant === 'level-git' ? v : undefined);
    for (const key of pairs) {
      const [workload, fixture] = key.split('\u0000') as [string, string];
      const lg = find(r, workload, fixture, variant);
      if (lg === undefined && variant !== 'level-git' && !workload.startsWith('api-commit')) continue;
      const at = (s: string): Result | undefined => find(r, workload, fixture, s);
      if (workload === 'ingest-history') {
        add(`history ingest ${fixture}: ${variant} time / cgit`, ratio(lg?.time.median, at('cgit')?.time.median));
        continue;
      }
      if (workload.startsWith('api-commit')) {
        if (variant !== 'level-git') continue;
        const base = at('cgit git push')?.time.median;
        add(`${workload} ${fixture}: level-git JSON API / cgit git commit+push`, ratio(at('level-git JSON API')?.time.median, base));
        add(`${workload} ${fixture}: level-git git commit+push / cgit git commit+push`, ratio(at('level-git git push')?.time.median, base));
        continue;
      }
      if (workload === 'push') {
        add(`push ${fixture}: ${variant} throughput / cgit`, ratio(at('cgit')?.time.median, lg?.time.median), t('>='), t(0.5));
        continue;
      }
      const strict = workload === 'depth1' || workload === 'sweep';
      add(
        `${workload} ${fixture}: ${variant} / floor`,
        ratio(lg?.time.median, at('floor')?.time.median),
        strict ? t('<=') : undefined,
        strict ? t(1.25) : undefined,
      );
      add(`${workload} ${fixture}: ${variant} / cgit`, ratio(lg?.time.median, at('cgit')?.time.median), t('<='), t(1));
      add(`${workload} ${fixture}: ${variant} / cgit-gc`, ratio(lg?.time.median, at('cgit-gc')?.time.median), t('<='), t(1));
      add(
        `${workload} ${fixture}: server CPU ${variant} / cgit-gc`,
        ratio(lg?.cpuMeanMs ?? undefined, at('cgit-gc')?.cpuMeanMs ?? undefined),
        strict ? t('<=') : undefined,
        strict ? t(0.5) : undefined,
      );
      if (at('remote')) add(`${workload} ${fixture}: ${variant} / remote`, ratio(lg?.time.median, at('remote')?.time.median));
    }
  }
  const sweeps = [...new Set(r.results.filter((x) => x.workload === 'sweep').map((x) => x.fixture))].sort(
    (a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]),
  );
  if (sweeps.length >= 2) {
    const shallow = sweeps[0]!;
    const deep = sweeps[sweeps.length - 1]!;
    for (const s of r.meta.servers.filter((n) => n !== 'remote')) {
      const v = ratio(find(r, 'sweep', deep, s)?.time.median, find(r, 'sweep', shallow, s)?.time.median);
      const label = s === 'floor' ? ' (noise gauge: nearly the same bytes)' : '';
      add(`depth1 ${deep} / ${shallow}: ${s}${label}`, v, s === 'level-git' ? '<=' : undefined, s === 'level-git' ? 1.2 : undefined);
      const cpu = ratio(find(r, 'sweep', deep, s)?.cpuMeanMs ?? undefined, find(r, 'sweep', shallow, s)?.cpuMeanMs ?? undefined);
      if (Number.isFinite(cpu)) add(`server CPU, depth1 ${deep} / ${shallow}: ${s}`, cpu);
    }
  }
  rows.push(...postgresRatios(r));
  return rows.filter((x) => Number.isFinite(x.value) || x.target !== '');
}

const fmt = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const mb = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : (n / 1e6).toFixed(n < 1e5 ? 3 : 2));

/** One table row. */
export interface Row {
  cells: string[];
}

function resultRows(r: SuiteReport): { header: string[]; rows: Row[] } {
  const header = [
    'workload',
    'fixture',
    'server',
    'median ms',
    'p95 ms',
    '× floor',
    '× cgit',
    '× cgit-gc',
    'server CPU ms/op',
    'CPU × cgit-gc',
    'peak RSS MB',
    'kB on wire',
    'runs',
    'failed',
  ];
  const rows: Row[] = [];
  for (const x of r.results) {
    const base = (s: string): Result | undefined => find(r, x.workload, x.fixture, s);
    rows.push({
      cells: [
        x.workload,
        x.fixture,
        x.server,
        fmt(x.time.median),
        fmt(x.time.p95),
        fmt(ratio(x.time.median, base('floor')?.time.median), 2),
        fmt(ratio(x.time.median, base('cgit')?.time.median), 2),
        fmt(ratio(x.time.median, base('cgit-gc')?.time.median), 2),
        fmt(x.cpuMeanMs),
        fmt(ratio(x.cpuMeanMs ?? undefined, base('cgit-gc')?.cpuMeanMs ?? undefined), 2),
        x.peakRssKb === null ? '–' : (x.peakRssKb / 1024).toFixed(0),
        x.bytes ? fmt(x.bytes / 1000, x.bytes < 10_000 ? 1 : 0) : '–',
        String(x.time.n),
        String(x.errors),
      ],
    });
  }
  return { header, rows };
}

function concurrencyRows(r: SuiteReport): { header: string[]; rows: Row[] } {
  const header = ['fixture', 'clones at once', 'server', 'clones/s', 'p50 ms', 'p95 ms', 'server CPU ms/clone', 'rounds', 'failed'];
  return {
    header,
    rows: r.concurrency.map((c) => ({
      cells: [
        c.fixture,
        String(c.concurrency),
        c.server,
        fmt(c.throughput, 2),
        fmt(c.latency.median),
        fmt(c.latency.p95),
        fmt(c.cpuPerCloneMs),
        String(c.rounds),
        String(c.errors),
      ],
    })),
  };
}

/** A plain-text table: the first three columns left-aligned, the rest right-aligned. */
export function textTable(header: string[], rows: Row[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(r.cells))].join('\n');
}

/** A Markdown table, aligned as textTable. */
export function mdTable(header: string[], rows: Row[]): string {
  const align = header.map((_, i) => (i < Math.min(3, header.length - 1) ? ':--' : '--:'));
  return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.cells.join(' | ')} |`)].join('\n');
}

function ratioRows(ratios: RatioRow[]): Row[] {
  return ratios.map((x) => ({
    cells: [x.name, fmt(x.value, 2), x.target || '(info)', x.pass === null ? (x.target ? 'not measured' : '') : x.pass ? 'met' : 'missed'],
  }));
}

/** The console version: results, concurrency and ratios. */
export function formatText(r: SuiteReport, ratios: RatioRow[]): string {
  const out: string[] = [];
  const res = resultRows(r);
  if (res.rows.length > 0) out.push(textTable(res.header, res.rows));
  if (r.concurrency.length > 0) {
    const c = concurrencyRows(r);
    out.push('', textTable(c.header, c.rows));
  }
  const targets = ratios.filter((x) => x.target !== '');
  const info = ratios.filter((x) => x.target === '');
  if (targets.length > 0) out.push('', textTable(['target (same-run ratio)', 'value', 'target', ''], ratioRows(targets)));
  if (info.length > 0)
    out.push(
      '',
      textTable(
        ['other same-run ratios', 'value'],
        ratioRows(info).map((r) => ({ cells: r.cells.slice(0, 2) })),
      ),
    );
  out.push(...formatPostgres(r, textTable, (s) => s));
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.history) out.push('', formatHistoryText(r.history));
  return out.join('\n');
}

/** How level-git's server ran, for a report's header. */
function serverLine(m: SuiteReport['meta']): string {
  return m.serverFrom === 'build' ? "level-git's server compiled (tsc), as published" : "level-git's server from sources (tsx)";
}

/** The Markdown section pasted into docs/benchmarks.md. */
export function formatMarkdown(r: SuiteReport, ratios: RatioRow[], chartFile: string | null): string {
  const m = r.meta;
  const out: string[] = [];
  out.push(
    `Measured ${m.date.slice(0, 10)} at commit \`${m.commit}\`: git ${m.git}, Node ${m.node}, ${m.cpus} × ${m.cpuModel}; ${serverLine(m)}; ` +
      `${m.runs} runs per server, alternating; clones ${m.checkout ? 'checked out into /dev/shm' : 'with --no-checkout'}; ` +
      `the floor replays ${m.floorSource}'s recorded responses${m.quick ? '; **--quick** fixtures' : ''}.`,
    '',
  );
  out.push('| fixture | what | files | MB | commits |', '| :-- | :-- | --: | --: | --: |');
  for (const f of r.fixtures) out.push(`| ${f.id} | ${f.label} | ${f.files} | ${f.bytes ? mb(f.bytes) : '–'} | ${f.commits} |`);
  out.push('');
  if (chartFile) out.push(`![depth-1 clone time per server and tree size](${chartFile})`, '');
  out.push('#### Targets (ratios of medians measured in the same run; CPU: means)', '');
  out.push(mdTable(['ratio', 'value', 'target', ''], ratioRows(ratios.filter((x) => x.target !== ''))), '');
  const info = ratios.filter((x) => x.target === '');
  if (info.length > 0) {
    out.push('<details><summary>Other same-run ratios (level-git-cold, floor, ingest)</summary>', '');
    out.push(
      mdTable(
        ['ratio', 'value'],
        ratioRows(info).map((r) => ({ cells: r.cells.slice(0, 2) })),
      ),
      '',
      '</details>',
      '',
    );
  }
  out.push('#### All results', '');
  const res = resultRows(r);
  out.push(mdTable(res.header, res.rows), '');
  if (r.concurrency.length > 0) {
    const c = concurrencyRows(r);
    out.push('#### Concurrent depth-1 clones', '', mdTable(c.header, c.rows), '');
  }
  out.push(...formatPostgres(r, mdTable, (s) => `#### ${s}`), '');
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.history) out.push('', '#### History scale', '', formatHistoryMarkdown(r.history));
  return out.join('\n').trimEnd() + '\n';
}

const COLORS: Record<string, string> = {
  'level-git': '#2b7bb9',
  'level-git-cold': '#8ec1e6',
  cgit: '#d9822b',
  'cgit-gc': '#a05a17',
  floor: '#7a7a7a',
  remote: '#6a3d9a',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A grouped bar chart (SVG) of depth-1 clone median (bar) and p95 (whisker) per fixture and server. */
export function depth1Chart(r: SuiteReport): string | null {
  const depth = r.results.filter((x) => x.workload === 'depth1' && x.time.n > 0);
  const fixtures = r.fixtures.filter((f) => depth.some((x) => x.fixture === f.id)).sort((a, b) => a.files - b.files || a.commits - b.commits);
  if (fixtures.length === 0) return null;
  const servers = r.meta.servers.filter((s) => depth.some((x) => x.server === s));
  const W = 760;
  const H = 380;
  const left = 64;
  const right = 16;
  const top = 40;
  const bottom = 70;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const maxV = Math.max(...depth.map((x) => x.time.p95));
  const step = niceStep(maxV / 5);
  const yMax = Math.ceil(maxV / step) * step || 1;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const groupW = plotW / fixtures.length;
  const barW = Math.min(36, (groupW * 0.8) / servers.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(`depth-1 clone, median ms (whisker: p95), ${r.meta.runs} runs, git ${r.meta.git}`)}</text>`,
  );
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1000 ? `${v / 1000}s` : v}</text>`);
  }
  fixtures.forEach((f, gi) => {
    const gx = left + gi * groupW + (groupW - barW * servers.length) / 2;
    servers.forEach((s, si) => {
      const x = depth.find((d) => d.fixture === f.id && d.server === s);
      if (!x) return;
      const bx = gx + si * barW;
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${y(x.time.median).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(x.time.median)).toFixed(1)}" fill="${COLORS[s] ?? '#999'}"><title>${esc(`${s} ${f.id}: median ${x.time.median.toFixed(0)} ms, p95 ${x.time.p95.toFixed(0)} ms`)}</title></rect>`,
      );
      const cx = bx + (barW - 2) / 2;
      parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(x.time.median).toFixed(1)}" y2="${y(x.time.p95).toFixed(1)}" stroke="#333"/>`);
      parts.push(
        `<line x1="${(cx - 4).toFixed(1)}" x2="${(cx + 4).toFixed(1)}" y1="${y(x.time.p95).toFixed(1)}" y2="${y(x.time.p95).toFixed(1)}" stroke="#333"/>`,
      );
    });
    const lx = left + gi * groupW + groupW / 2;
    parts.push(`<text x="${lx.toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(f.id)}</text>`);
    parts.push(
      `<text x="${lx.toFixed(1)}" y="${top + plotH + 33}" text-anchor="middle" fill="#555">${esc(`${f.files.toLocaleString('en-US')} files, ${f.commits.toLocaleString('en-US')} commits`)}</text>`,
    );
  });
  servers.forEach((s, i) => {
    const lx = left + i * 110;
    parts.push(`<rect x="${lx}" y="${H - 22}" width="12" height="12" fill="${COLORS[s] ?? '#999'}"/>`);
    parts.push(`<text x="${lx + 16}" y="${H - 12}">${esc(s)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const HISTORY_START = '<!-- bench:history:start -->';
const HISTORY_END = '<!-- bench:history:end -->';

/** Replaces what lies between two markers; null when they are absent. */
function between(text: string, start: string, end: string, body: string): string | null {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  return a >= 0 && b > a ? `${text.slice(0, a + start.length)}\n${body}${text.slice(b)}` : null;
}

/** Writes results JSON, Markdown and chart under resultsDir; with docsDir, updates docs too. */
export function writeOutputs(r: SuiteReport, resultsDir: string, docsDir: string | null): { json: string; markdown: string; chart: string | null } {
  mkdirSync(resultsDir, { recursive: true });
  const ratios = computeRatios(r);
  const stamp = r.meta.date.replace(/[:.]/g, '-');
  const json = join(resultsDir, `${stamp}.json`);
  const body = JSON.stringify({ ...r, ratios }, null, 2);
  writeFileSync(json, body);
  writeFileSync(join(resultsDir, 'latest.json'), body);
  const svg = depth1Chart(r);
  const chart = svg ? join(resultsDir, 'depth1.svg') : null;
  if (svg && chart) writeFileSync(chart, svg);
  const md = formatMarkdown(r, ratios, svg ? 'depth1.svg' : null);
  const markdown = join(resultsDir, `${stamp}.md`);
  writeFileSync(markdown, md);
  writeFileSync(join(resultsDir, 'latest.md'), md);
  if (docsDir !== null) {
    const chartName = 'benchmarks-depth1.svg';
    if (svg) writeFileSync(join(docsDir, chartName), svg);
    const docFile = join(docsDir, 'benchmarks.md');
    let current = existsSync(docFile) ? readFileSync(docFile, 'utf8') : `# Benchmarks\n\n## Results\n\n${START}\n${END}\n`;
    // `--only history` leaves the Results section as it was; the history goes to its own section.
    if (r.results.length > 0 || r.concurrency.length > 0) {
      const docMd = formatMarkdown({ ...r, history: undefined }, ratios, svg ? chartName : null);
      current = between(current, START, END, docMd) ?? `${current.trimEnd()}\n\n## Results\n\n${START}\n${docMd}${END}\n`;
    }
    if (r.history) {
      const historyMd = `Measured ${r.meta.date.slice(0, 10)} at commit \`${r.meta.commit}\`: git ${r.meta.git}, Node ${r.meta.node}, ${r.meta.cpus} × ${r.meta.cpuModel}; ${serverLine(r.meta)}.\n\n${formatHistoryMarkdown(r.history)}`;
      current =
        between(current, HISTORY_START, HISTORY_END, historyMd) ?? `${current.trimEnd()}\n\n## History scale\n\n${HISTORY_START}\n${historyMd}${HISTORY_END}\n`;
    }
    writeFileSync(docFile, current);
  }
  return { json, markdown, chart };
}
