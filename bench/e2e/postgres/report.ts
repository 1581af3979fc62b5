/**
 * What `--db postgres` adds to the report: issue 11's targets as same-run ratios (level-git
 * over PostgreSQL against the same engine on the on-disk default), database statements per
 * operation, and the scale workload's throughput table.
 */
import { ratio } from '../../shared/stats.js';
import type { Result } from '../../shared/measure.js';
import type { RatioRow, Row } from '../report.js';
import type { SuiteReport } from '../suite.js';

const fmt = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

const find = (r: SuiteReport, workload: string, fixture: string, server: string): Result | undefined =>
  r.results.find((x) => x.workload === workload && x.fixture === fixture && x.server === server && x.time.n > 0);

/** Issue 11's targets: warm depth-1 ≤ 1.3×, cold ≤ 2×, API commit of 10 files ≤ 2× (PostgreSQL / LevelDB). */
export function postgresRatios(r: SuiteReport): RatioRow[] {
  if (r.postgres === undefined) return [];
  const rows: RatioRow[] = [];
  const add = (name: string, value: number, limit?: number): void => {
    rows.push({ name, value, target: limit === undefined ? '' : `≤ ${limit}`, pass: limit === undefined || !Number.isFinite(value) ? null : value <= limit });
  };
  const fixtures = [...new Set(r.results.map((x) => x.fixture))];
  for (const f of fixtures) {
    for (const w of ['depth1', 'sweep', 'full', 'fetch']) {
      const warm = ratio(find(r, w, f, 'level-git-pg')?.time.median, find(r, w, f, 'level-git')?.time.median);
      const cold = ratio(find(r, w, f, 'level-git-pg-cold')?.time.median, find(r, w, f, 'level-git-cold')?.time.median);
      if (Number.isFinite(warm)) add(`${w} ${f}: PostgreSQL / LevelDB, warm (pack cache on)`, warm, w === 'depth1' ? 1.3 : undefined);
      if (Number.isFinite(cold)) add(`${w} ${f}: PostgreSQL / LevelDB, cold (pack cache off)`, cold, w === 'depth1' ? 2 : undefined);
    }
    const push = ratio(find(r, 'push', f, 'level-git-pg')?.time.median, find(r, 'push', f, 'level-git')?.time.median);
    if (Number.isFinite(push)) add(`push ${f}: PostgreSQL / LevelDB time`, push);
    for (const x of r.results.filter((y) => y.fixture === f && y.workload.startsWith('api-commit') && y.server === 'level-git-pg JSON API')) {
      const v = ratio(x.time.median, find(r, x.workload, f, 'level-git JSON API')?.time.median);
      add(`${x.workload} ${f}: JSON API, PostgreSQL / LevelDB`, v, x.workload === 'api-commit-10' ? 2 : undefined);
    }
  }
  return rows;
}

/** Statements per operation of the PostgreSQL servers, and the time they took. */
function statementRows(r: SuiteReport): { header: string[]; rows: Row[] } {
  const header = ['workload', 'fixture', 'server', 'median ms', 'statements', 'lock statements', 'summed statement ms', 'ms per statement', 'tree levels'];
  const rows: Row[] = [];
  for (const x of r.results) {
    if (x.db === undefined) continue;
    const levels = r.postgres?.treeLevels[x.fixture];
    rows.push({
      cells: [
        x.workload,
        x.fixture,
        x.server,
        fmt(x.time.median),
        fmt(x.db.statements, x.db.statements % 1 ? 1 : 0),
        fmt(x.db.lockStatements, x.db.lockStatements % 1 ? 1 : 0),
        fmt(x.db.statementMs),
        fmt(x.db.statements > 0 ? x.db.statementMs / x.db.statements : NaN, 1),
        levels === undefined ? '–' : String(levels),
      ],
    });
  }
  return { header, rows };
}

function scaleRows(r: SuiteReport): { header: string[]; rows: Row[] } {
  const header = [
    'engine',
    'processes',
    'operation',
    'clients',
    'ops',
    'per second',
    'p50 ms',
    'p95 ms',
    'machine busy',
    'level-git CPU ms/op',
    'PostgreSQL CPU ms/op',
    'failed',
  ];
  return {
    header,
    rows: (r.postgres?.scale ?? []).map((s) => ({
      cells: [
        s.engine === 'postgres' ? 'PostgreSQL' : 'LevelDB',
        String(s.processes),
        s.op === 'clone' ? `depth-1 clone ${s.fixture}` : 'API commit, 10 files',
        String(s.clients),
        String(s.ops),
        fmt(s.perSecond, 2),
        fmt(s.latency.median),
        fmt(s.latency.p95),
        `${fmt(s.machineBusy * 100)}%`,
        fmt(s.serverCpuMsPerOp),
        fmt(s.postgresCpuMsPerOp),
        String(s.errors),
      ],
    })),
  };
}

/** The PostgreSQL tables, rendered by `table` (text or Markdown); empty without `--db postgres`. */
export function formatPostgres(r: SuiteReport, table: (header: string[], rows: Row[]) => string, heading: (s: string) => string): string[] {
  if (r.postgres === undefined) return [];
  const out: string[] = ['', heading(`PostgreSQL ${r.postgres.version}: database statements per operation (medians)`), ''];
  const st = statementRows(r);
  out.push(table(st.header, st.rows));
  if (r.postgres.scale.length > 0) {
    const sc = scaleRows(r);
    out.push('', heading('PostgreSQL: processes behind one port (scale)'), '', table(sc.header, sc.rows));
  }
  return out;
}
