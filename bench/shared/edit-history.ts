/**
 * A generated history of many small edits to the same files, written by `git fast-import` in
 * one process (fast even for thousands of commits), the way a long-lived project looks: every
 * commit edits a few lines of a few files, now and then adds a file.
 */
import { execFileSync } from 'node:child_process';

const ENV: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

function git(cwd: string | undefined, args: string[], input = ''): Buffer {
  return execFileSync('git', args, { cwd, env: ENV, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Options of `makeEditHistory`. */
export interface EditHistoryOptions {
  commits: number;
  /** Files at the start (more are added every 25 commits). */
  files?: number;
  /** Lines per file at the start. */
  lines?: number;
  /** Files each commit edits. */
  editsPerCommit?: number;
}

const WORDS = 'user account request handler value result buffer index config state token stream error count items cache entry parent child node'.split(' ');

/** Text of one line of a file: deterministic, as varied as source code (it compresses about 3x, not 10x). */
function line(file: number, n: number): string {
  let h = (file * 2654435761 + n * 40503) >>> 0;
  const next = () => {
    h = (Math.imul(h ^ (h >>> 15), 2246822507) + 3266489909) >>> 0;
    return h;
  };
  const w = () => WORDS[next() % WORDS.length]!;
  const indent = ' '.repeat(2 * (next() % 4));
  return `${indent}const ${w()}${next() % 1000} = ${w()}.${w()}(${w()}${next() % 97}, ${next() % 100_000}, "${w()}-${(next() % 65536).toString(16)}");`;
}

/** Initializes `repo` (a work tree) with a history made by fast-import; returns its commit ids, oldest first. */
export function makeEditHistory(repo: string, options: EditHistoryOptions): string[] {
  const files = options.files ?? 40;
  const lines = options.lines ?? 120;
  const edits = options.editsPerCommit ?? 3;
  git(undefined, ['init', '-q', '-b', 'main', repo]);
  const content: string[][] = [];
  const path = (f: number) => `src/dir${f % 5}/module${f}.ts`;
  const parts: string[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let c = 0; c < options.commits; c++) {
    const changed: number[] = [];
    if (c === 0) {
      for (let f = 0; f < files; f++) {
        content.push(Array.from({ length: lines }, (_, n) => line(f, n)));
        changed.push(f);
      }
    } else {
      if (c % 25 === 0) {
        content.push(Array.from({ length: lines }, (_, n) => line(content.length, n)));
        changed.push(content.length - 1);
      }
      for (let e = 0; e < edits; e++) {
        const f = rand(content.length);
        const text = content[f]!;
        const at = rand(text.length);
        if (rand(3) === 0) text.splice(at, 0, line(f + 1000 * c, at));
        else text[at] = `${text[at]!.slice(0, 30)} ${line(c, f).trim()}`;
        changed.push(f);
      }
    }
    const when = 1_700_000_000 + c * 3600;
    parts.push(`commit refs/heads/main\nmark :${c + 1}\ncommitter Dev <dev@example.com> ${when} +0000\n`);
    parts.push(data(`Change ${c}: adjust ${changed.map((f) => `module${f}`).join(', ')}\n\nSome explanation of why commit ${c} was needed.\n`));
    if (c > 0) parts.push(`from :${c}\n`);
    for (const f of new Set(changed)) parts.push(`M 100644 inline ${path(f)}\n${data(`${content[f]!.join('\n')}\n`)}`);
    parts.push('\n');
  }
  git(repo, ['fast-import', '--quiet'], parts.join(''));
  // fast-import deltas each blob against the blob written before it (another file): find real
  // deltas, as a repository that lived through these commits would have.
  git(repo, ['repack', '-adfq']);
  git(repo, ['reset', '-q', '--hard', 'main']);
  return git(repo, ['rev-list', '--reverse', 'main']).toString().trim().split('\n');
}
