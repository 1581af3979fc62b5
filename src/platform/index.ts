/**
 * The platform in use, chosen without top-level await and without any `node:` import in this
 * file's graph: `default.ts` picks at load time (package.json's `browser` map makes browser
 * bundles start portable), the Node entry (`src/node.ts`) installs the statically imported
 * Node platform, and `setPlatform` lets tests and hybrid runtimes choose explicitly.
 */
import type { Platform } from './types.js';
import { defaultPlatform } from './default.js';
import { portablePlatform } from './portable.js';
import { nodePlatformFromRuntime } from './node-impl.js';

export type { Platform, Sha1Hasher, InflatePrefixResult, JobPort, WorkerHost, StreamInflater, StreamDeflater } from './types.js';
export { OutputLimitError } from './errors.js';

/** What `setPlatform` accepts: a name, or an implementation of the primitives. */
export type PlatformChoice = 'portable' | 'node' | Platform;

let current: Platform = defaultPlatform();

/** The platform in use. */
export function platform(): Platform {
  return current;
}

/**
 * Chooses the platform: `'portable'` (fflate and @noble/hashes, runs anywhere), `'node'`
 * (Node's native modules through `process.getBuiltinModule`: Node 20.16+, Electron 32+ with
 * Node integration, Bun, Deno 2; throws where the runtime has none), or an implementation.
 * Call it before opening an engine: objects hashed either way are identical, only speed differs.
 */
export function setPlatform(choice: PlatformChoice): void {
  if (choice === 'portable') {
    current = portablePlatform;
  } else if (choice === 'node') {
    const p = nodePlatformFromRuntime();
    if (p === undefined) throw new TypeError("setPlatform('node'): this runtime has no process.getBuiltinModule (Node 20.16+, Electron 32+, Bun or Deno 2)");
    current = p;
  } else if (choice !== null && typeof choice === 'object' && typeof choice.sha1 === 'function' && typeof choice.inflatePrefix === 'function') {
    current = choice;
  } else {
    throw new TypeError("setPlatform expects 'portable', 'node' or a Platform object");
  }
}

/** Bytes of fresh buffers between two collections of young garbage (`youngGarbage`). */
const COLLECT_EVERY = 4 * 1024 * 1024;

/**
 * A counter for a streaming loop that makes and drops a fresh buffer per piece (network reads,
 * chunks read back, inflated output) while allocating little else: it collects young garbage
 * every COLLECT_EVERY bytes where the platform can (`collectYoung`), since V8 would otherwise
 * keep 32 MiB of such buffers before freeing any (node-impl.ts `minorCollector`).
 */
export function youngGarbage(): (bytes: number) => void {
  const collect = current.collectYoung;
  if (collect === undefined) return () => {};
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since >= COLLECT_EVERY) {
      since = 0;
      collect();
    }
  };
}
