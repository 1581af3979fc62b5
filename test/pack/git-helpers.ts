/** Drives the real git binary for the pack tests (through test/helpers/git.ts): packs, cat-file --batch, histories. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git, gitText } from '../helpers/git.js';
import { inflateSync } from 'node:zlib';
import type { ObjectType, Oid } from '../../src/object/oid.js';

export { GIT_ENV, git, gitText } from '../helpers/git.js';
export { tempDir } from '../helpers/tmp.js';

/** `git init --bare` in a fresh directory under `parent`. */
export function initBare(parent: string, name = 'bare.git'): string {
  const dir = join(parent, name);
  git(undefined, ['init', '-q', '--bare', dir]);
  return dir;
}

/** Writes a file (creating directories). */
export function writeFile(root: string, path: string, content: string | Uint8Array): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

/** One object as `git cat-file --batch` prints it. */
export interface CatFileObject {
  type: ObjectType;
  body: Uint8Array;
}

/** Reads many objects with one `git cat-file --batch`; missing ones are absent from the map. */
export function catFileBatch(repo: string, oids: readonly string[]): Map<Oid, CatFileObject> {
  const out = git(repo, ['cat-file', '--batch'], oids.join('\n') + '\n');
  const map = new Map<Oid, CatFileObject>();
  let i = 0;
  while (i < out.length) {
    const nl = out.indexOf(0x0a, i);
    const line = out.subarray(i, nl).toString('utf8');
    i = nl + 1;
    const parts = line.split(' ');
    if (parts[1] === 'missing') continue;
    const size = Number(parts[2]);
    map.set(parts[0] as Oid, { type: parts[1] as ObjectType, body: new Uint8Array(out.subarray(i, i + size)) });
    i += size + 1;
  }
  return map;
}

/** All object ids of a repository. */
export function allObjects(repo: string): string[] {
  return gitText(repo, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).split('\n').filter(Boolean);
}

/** Splits `bytes` into chunks of `size` (views). */
export function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** An async iterable over `parts`. */
export async function* asAsync<T>(parts: Iterable<T>): AsyncGenerator<T> {
  for (const p of parts) yield p;
}

/** Deterministic pseudo-random bytes. */
export function pseudoRandom(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A work-tree repository with history that makes git produce deltas: many files, several
 * commits each editing some of them, a tag. Returns the repo path and the commits.
 */
export function makeHistoryRepo(parent: string, name = 'work'): { repo: string; commits: string[] } {
  const repo = join(parent, name);
  git(undefined, ['init', '-q', '-b', 'main', repo]);
  const commits: string[] = [];
  const lines = (seed: number, n: number) =>
    Array.from({ length: n }, (_, k) => `line ${k} of a file that git will want to delta ${(seed * 7919 + k * 31) % 1000}`).join('\n') + '\n';
  for (let f = 0; f < 60; f++) writeFile(repo, `dir${f % 6}/file${f}.txt`, lines(f, 80 + f));
  writeFile(repo, 'bin/data.bin', pseudoRandom(30_000, 7));
  writeFile(repo, 'empty.txt', '');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'initial']);
  commits.push(gitText(repo, ['rev-parse', 'HEAD']));
  for (let c = 1; c <= 6; c++) {
    for (let f = c; f < 60; f += 7) {
      const text = lines(f, 80 + f).split('\n');
      text.splice(10 + c, 1, `edited in commit ${c}`);
      text.push(`appended in commit ${c}`);
      writeFile(repo, `dir${f % 6}/file${f}.txt`, text.join('\n'));
    }
    const bin = pseudoRandom(30_000, 7);
    bin[100 * c] ^= 0xff;
    writeFile(repo, 'bin/data.bin', bin);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', `edit ${c}`]);
    commits.push(gitText(repo, ['rev-parse', 'HEAD']));
  }
  git(repo, ['tag', '-a', 'v1', '-m', 'a tag', commits[3]!]);
  return { repo, commits };
}

/** The entry type numbers of a pack, in order (6 = OFS_DELTA, 7 = REF_DELTA), read without resolving deltas. */
export function packEntryTypes(pack: Uint8Array): number[] {
  const count = new DataView(pack.buffer, pack.byteOffset).getUint32(8);
  const types: number[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    const first = pack[at]!;
    types.push((first >> 4) & 7);
    let b = first;
    at++;
    while (b & 0x80) b = pack[at++]!;
    if (types[i] === 6) while (pack[at++]! & 0x80);
    else if (types[i] === 7) at += 20;
    // The zlib stream does not record its length: inflate to learn how much input it used.
    const { engine } = inflateSync(pack.subarray(at), { info: true }) as unknown as { engine: { bytesWritten: number } };
    at += engine.bytesWritten;
  }
  if (at !== pack.length - 20) throw new Error(`pack entries end at ${at}, the trailer starts at ${pack.length - 20}`);
  return types;
}
