/** Shared helpers of the engine-core tests: engine factories, byte helpers, real-file fixtures. */
import { mkdtempSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';

/** What a conformance factory gives one test: an open engine, a way to reopen it, cleanup. */
export interface EngineHandle {
  engine: Engine;
  /** Closes the engine and opens a new one over the same storage; undefined when the storage does not persist. */
  reopen?: () => Promise<Engine>;
  /** Closes everything and removes temp files. */
  dispose: () => Promise<void>;
}

/** Makes a fresh, empty engine for one test. */
export type EngineFactory = () => Promise<EngineHandle>;

/** Engines over a fresh memory-level database. */
export const memoryFactory: EngineFactory = async () => {
  const db = new MemoryLevel();
  const engine = await openEngine({ db });
  return { engine, dispose: async () => (await engine.close(), await db.close()) };
};

/** Engines over the embedded on-disk default (`openEngine({ path })`) in a temp directory. */
export const diskFactory: EngineFactory = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'level-git-engine-'));
  const path = join(dir, 'db');
  const handle: EngineHandle = {
    engine: await openEngine({ path }),
    reopen: async () => {
      await handle.engine.close();
      handle.engine = await openEngine({ path });
      return handle.engine;
    },
    dispose: async () => {
      await handle.engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
};

/** Text of bytes. */
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Collects an async iterable of chunks into one buffer. */
export async function collectBytes(src: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of src) (parts.push(p), (n += p.length));
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Counts the objects of a repository's store. */
export async function countObjects(objects: { allOids(): AsyncIterable<string> }): Promise<number> {
  let n = 0;
  for await (const _ of objects.allOids()) n++;
  return n;
}

/** The default author of test commits. */
export const AUTHOR = { name: 'Engine Test', email: 'engine@example.com', timestamp: 1_700_000_000 };

/** Every file under `dir` (relative paths, sorted), optionally only some extensions. */
export function listFiles(dir: string, exts?: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (!exts || exts.some((x) => e.name.endsWith(x)))) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Real source files from node_modules: up to `count` .js/.ts/.json files between 200 bytes
 * and 200 KB, deterministic order, as { path, content } with paths under `pkg/...`.
 */
export function realSourceFiles(count: number, root = join(process.cwd(), 'node_modules')): { path: string; content: Uint8Array }[] {
  const out: { path: string; content: Uint8Array }[] = [];
  const pkgs = readdirSync(root).filter((p) => !p.startsWith('.')).sort();
  for (const pkg of pkgs) {
    const base = join(root, pkg);
    let files: string[];
    try {
      files = listFiles(base, ['.js', '.ts', '.json', '.md']);
    } catch {
      continue;
    }
    for (const f of files) {
      if (f.includes('node_modules')) continue;
      const full = join(base, f);
      const size = statSync(full).size;
      if (size < 200 || size > 200_000) continue;
      out.push({ path: `${pkg}/${f}`, content: new Uint8Array(readFileSync(full)) });
      if (out.length >= count) return out;
    }
  }
  return out;
}
