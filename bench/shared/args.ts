/**
 * Command-line flags of `npm run bench -- [flags]`.
 */

/** Every workload the runner knows. */
export const WORKLOADS = ['depth1', 'full', 'fetch', 'push', 'concurrent', 'sweep', 'api', 'history', 'review', 'scale'] as const;
/** One workload name. */
export type Workload = (typeof WORKLOADS)[number];

/** Parsed flags. */
export interface BenchOptions {
  quick: boolean;
  runs: number;
  only: Workload[] | null;
  remote: string | null;
  checkout: boolean;
  /** Also write the chart and the results table into docs/. */
  docs: boolean;
  /** Where the floor's recordings come from. */
  floorSource: 'level-git' | 'cgit';
  /** Re-render tables, Markdown and chart from a saved results JSON instead of running. */
  from: string | null;
  /** Concurrency levels for the concurrent workload. */
  concurrency: number[];
  /** Skip level-git even if the engine is present. */
  noLevelGit: boolean;
  /** Also run level-git with its pack cache off (level-git-cold). Default: on, off with --quick. */
  cold: boolean;
  /** Run level-git's server from its sources through tsx instead of compiled (bench/e2e/servers/build.ts). */
  fromSources: boolean;
  /** `--db postgres`: also run level-git over PostgreSQL (a throwaway server the bench starts). */
  db: 'postgres' | null;
  /** Processes of the `scale` workload (with --db postgres). */
  processes: number[];
  /** The `history` workload (bench/e2e/history): its generated fixture and its bounds. */
  history: {
    commits: number;
    files: number;
    runs: number;
    /** Longest one step (one git command, one sweep) may take, seconds. */
    timeoutS: number;
    /** V8 heap limit of the level-git server and sweep processes, MiB. */
    heapMb: number;
    /** level-git answers full clones from stored full-clone packs (`serve --full-packs`, packCache.fullPacks). */
    fullPacks: boolean;
    /** Instead of the generated history: one commit per published version of this npm package. */
    npm: { name: string; count: number } | null;
    /** A local repository and branch to push instead of the generated history (`--history-repo`). */
    repo: { path: string; branch: string } | null;
  };
  help: boolean;
}

/** Usage text. */
export const USAGE = `usage: npm run bench -- [flags]
  --quick              small fixtures, 3 runs (CI smoke)
  --runs N             timed runs per server and workload (default 7, min 1)
  --only a,b           workloads: ${WORKLOADS.join(', ')}
  --remote URL         also time depth-1 and full clones of a Git HTTP remote, beside the
                       local servers serving the same content
  --no-checkout        clone with --no-checkout (default: check out into /dev/shm)
  --concurrency 1,8,32 levels for the concurrent workload
  --floor-source S     level-git (default) or cgit: whose responses the floor replays
  --no-level-git       leave level-git out
  --cold / --no-cold   also run level-git-cold (pack cache off); default on, off with --quick
  --from-sources       run level-git's server from its TypeScript sources through tsx (default:
                       compiled into bench/.cache/server-build first, as a published package runs)
  --db postgres        also run level-git over PostgreSQL (level-git-pg, level-git-pg-cold) in
                       the clone, push and api workloads, and the scale workload (throughput of
                       N processes behind one port); the bench starts its own PostgreSQL
  --processes 1,2,4    process counts of the scale workload
  --docs               write the chart and results table into docs/
  --from FILE.json     re-render tables, Markdown and chart from saved results (no run)
  --history-commits N  commits of the generated history (default 20000; 2000 with --quick)
  --history-files N    files of its tree (default 5000; 1000 with --quick)
  --history-runs N     timed runs per server of each history step (default 3)
  --history-timeout S  bound on any one history step, seconds (default 900)
  --history-heap MB    V8 heap limit of the level-git server in the history workload (default 4096)
  --history-full-packs level-git stores full-clone packs (serve --full-packs) in the history workload
  --history-npm P[:N]  history workload on a real history instead: the last N (default 200)
                       stable published versions of npm package P, one commit each (network)
  --history-repo D[:B] history workload on an existing repository instead: branch B (default
                       master) of the git repository at D, fetched once into the cache as main
`;

/** Parses argv (without node and script); throws with a message on bad input. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    quick: false,
    runs: 7,
    only: null,
    remote: null,
    checkout: true,
    docs: false,
    floorSource: 'level-git',
    from: null,
    concurrency: [1, 8, 32],
    noLevelGit: false,
    cold: true,
    fromSources: false,
    db: null,
    processes: [1, 2, 4],
    history: { commits: 20_000, files: 5_000, runs: 3, timeoutS: 900, heapMb: 4096, fullPacks: false, npm: null, repo: null },
    help: false,
  };
  const given = new Set<string>();
  const int = (flag: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer ${min}..${max}`);
    given.add(flag);
    return n;
  };
  let runsGiven = false;
  let coldGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('--runs must be an integer 1..1000');
        o.runs = n;
        runsGiven = true;
        break;
      }
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const n of names) if (!(WORKLOADS as readonly string[]).includes(n)) throw new Error(`unknown workload ${n}`);
        o.only = names as Workload[];
        break;
      }
      case '--remote':
        o.remote = value();
        break;
      case '--no-checkout':
        o.checkout = false;
        break;
      case '--docs':
        o.docs = true;
        break;
      case '--from':
        o.from = value();
        break;
      case '--floor-source': {
        const v = value();
        if (v !== 'level-git' && v !== 'cgit') throw new Error('--floor-source must be level-git or cgit');
        o.floorSource = v;
        break;
      }
      case '--concurrency': {
        const levels = value().split(',').map(Number);
        if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new Error('--concurrency takes integers 1..256');
        o.concurrency = levels;
        break;
      }
      case '--no-level-git':
        o.noLevelGit = true;
        break;
      case '--cold':
        o.cold = true;
        coldGiven = true;
        break;
      case '--no-cold':
        o.cold = false;
        coldGiven = true;
        break;
      case '--from-sources':
        o.fromSources = true;
        break;
      case '--db': {
        const v = value();
        if (v !== 'postgres') throw new Error('--db takes postgres');
        o.db = v;
        break;
      }
      case '--processes': {
        const levels = value().split(',').map(Number);
        if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error('--processes takes integers 1..16');
        o.processes = levels;
        break;
      }
      case '--history-commits':
        o.history.commits = int(flag, value(), 2, 10_000_000);
        break;
      case '--history-files':
        o.history.files = int(flag, value(), 10, 10_000_000);
        break;
      case '--history-runs':
        o.history.runs = int(flag, value(), 1, 100);
        break;
      case '--history-timeout':
        o.history.timeoutS = int(flag, value(), 1, 86_400);
        break;
      case '--history-heap':
        o.history.heapMb = int(flag, value(), 64, 1_000_000);
        break;
      case '--history-full-packs':
        o.history.fullPacks = true;
        break;
      case '--history-npm': {
        const v = value();
        const at = v.lastIndexOf(':');
        const [name, count] = at > 0 ? [v.slice(0, at), v.slice(at + 1)] : [v, '200'];
        if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/.test(name)) throw new Error('--history-npm takes an npm package name, optionally :count');
        o.history.npm = { name, count: int(flag, count, 2, 100_000) };
        break;
      }
      case '--history-repo': {
        const v = value();
        const at = v.lastIndexOf(':');
        const [path, branch] = at > 0 ? [v.slice(0, at), v.slice(at + 1)] : [v, 'master'];
        if (!/^[A-Za-z0-9._/-]+$/.test(branch)) throw new Error('--history-repo takes a repository path, optionally :branch');
        o.history.repo = { path, branch };
        break;
      }
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown flag ${a}`);
    }
  }
  if (o.quick && !runsGiven) o.runs = 3;
  if (o.quick && !coldGiven) o.cold = false;
  if (o.quick && !given.has('--history-commits')) o.history.commits = 2_000;
  if (o.quick && !given.has('--history-files')) o.history.files = 1_000;
  return o;
}

/** Whether a workload is selected. */
export function wants(o: BenchOptions, w: Workload): boolean {
  return o.only === null || o.only.includes(w);
}
