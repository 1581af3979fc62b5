/**
 * Real files as benchmark (and test) input: source files from node_modules, deterministic
 * order. Tests import these from here; nothing in bench/ imports from test/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

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
  const pkgs = readdirSync(root)
    .filter((p) => !p.startsWith('.'))
    .sort();
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

/** Collects an async iterable of chunks into one buffer. */
export async function collectBytes(src: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of src) parts.push(p), (n += p.length);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

/**
 * Exactly `count` distinct files: `realSourceFiles`, then copies of them under `copies/<n>/`
 * with a line appended (node_modules holds fewer qualifying files than the 20,371-file tree).
 */
export function manyFiles(count: number): { path: string; content: Uint8Array }[] {
  const real = realSourceFiles(count);
  const out = real.slice();
  for (let i = 0; out.length < count && real.length > 0; i++) {
    const f = real[i % real.length]!;
    const tail = new TextEncoder().encode(`\n// copy ${i}\n`);
    const content = new Uint8Array(f.content.length + tail.length);
    content.set(f.content);
    content.set(tail, f.content.length);
    out.push({ path: `copies/${Math.floor(i / real.length)}/${f.path}`, content });
  }
  return out;
}
