/**
 * The Node platform built from the modules it is handed: `node.ts` passes statically imported
 * `node:crypto` and `node:zlib`, `setPlatform('node')` passes the ones `process.getBuiltinModule`
 * returns (Electron renderers with Node integration, Bun, Deno). No `node:` import here, so a
 * browser bundle that contains this file never asks the bundler for a Node module.
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeZlib from 'node:zlib';
import type * as NodeWorkerThreads from 'node:worker_threads';
import type * as NodeOs from 'node:os';
import type * as NodeFs from 'node:fs';
import type * as NodeV8 from 'node:v8';
import type * as NodeVm from 'node:vm';
import type { Platform, Sha1Hasher, InflatePrefixResult, ScratchFile, WorkerHost } from './types.js';
import { OutputLimitError } from './errors.js';
import { createWorkerPool } from './worker-pool.js';
import { nodeOutbound } from './node-outbound.js';
import { nodeDeflater, nodeInflater } from './node-stream-zlib.js';
import { createOneShotZlib } from './node-oneshot-zlib.js';

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

class NodeSha1 implements Sha1Hasher {
  #h: NodeCrypto.Hash;
  constructor(createHash: typeof NodeCrypto.createHash) {
    this.#h = createHash('sha1');
  }
  update(data: Uint8Array): void {
    this.#h.update(data);
  }
  digest(): Uint8Array {
    return view(this.#h.digest());
  }
}

function isTruncation(err: unknown): boolean {
  return (err as { code?: string }).code === 'Z_BUF_ERROR';
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || (err as Error).message?.includes('maxOutputLength') === true;
}

/**
 * zlib's output chunk for an expected size: callers know the inflated size (a pack entry
 * header declares it), and the default 16 KiB chunk per call made small objects allocate and
 * collect far more than they inflate. One spare byte lets zlib see the end in the first chunk,
 * and a single chunk is returned as is: a big object is never inflated into 1 MiB pieces and
 * then concatenated (twice its size at the peak).
 */
function chunkFor(expected: number): number {
  return Math.min(Math.max(64, expected + 1), 1024 * 1024 * 1024);
}

/**
 * A minor (young-generation) collection on demand, or undefined where V8 offers none. Why: a
 * request body arrives as a fresh buffer per network read, and while the JavaScript heap itself
 * barely grows (an NDJSON commit of a big file), V8 frees those buffers only once 32 MiB of them
 * wait (twice its largest semi-space): that much RSS is garbage at every peak. V8's `gc`
 * function is taken once from a context made while `--expose-gc` is set, and the flag is
 * cleared again, so contexts made later (the embedder's own) do not get it; a process started
 * with `--expose-gc` has it already.
 */
function minorCollector(v8: typeof NodeV8, vm: typeof NodeVm): () => void {
  type Gc = (options: { type: 'minor' }) => void;
  let gc: Gc | null | undefined = (globalThis as { gc?: Gc }).gc ?? null;
  return () => {
    if (gc === null) {
      try {
        v8.setFlagsFromString('--expose-gc');
        const f: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
        gc = typeof f === 'function' ? (f as Gc) : undefined;
      } catch {
        gc = undefined;
      } finally {
        v8.setFlagsFromString('--no-expose-gc');
      }
    }
    gc?.({ type: 'minor' });
  };
}

/** Bodies up to this size are hashed with their header in one call, through a reused buffer. */
const ONE_SHOT_MAX = 64 * 1024;

/**
 * `sha1Hex` through `crypto.hash` (Node 20.12, 21.7 and later): an object id for a pack's
 * small objects without a Hash object per id (about 40% less time per object); header and body
 * are joined in one reused buffer. Bigger bodies, and older Node, take `createHash`.
 */
function oneShotSha1Hex(crypto: typeof NodeCrypto): (head: string, body: Uint8Array) => string {
  const { createHash } = crypto;
  const hash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
  const slow = (head: string, body: Uint8Array) => createHash('sha1').update(head, 'latin1').update(body).digest('hex');
  if (typeof hash !== 'function') return slow;
  let buf = new Uint8Array(4096);
  return (head, body) => {
    const n = head.length + body.length;
    if (body.length > ONE_SHOT_MAX) return slow(head, body);
    if (n > buf.length) buf = new Uint8Array(Math.max(n, buf.length * 2));
    for (let i = 0; i < head.length; i++) buf[i] = head.charCodeAt(i);
    buf.set(body, head.length);
    return hash('sha1', buf.subarray(0, n), 'hex');
  };
}

/** The Node platform over the given `node:crypto` and `node:zlib` modules (with worker threads when handed `worker_threads` and `os`). */
export function createNodePlatform(
  crypto: typeof NodeCrypto,
  zlib: typeof NodeZlib,
  threads?: { workerThreads: typeof NodeWorkerThreads; os: typeof NodeOs },
  gc?: { v8: typeof NodeV8; vm: typeof NodeVm },
  files?: { fs: typeof NodeFs; os: typeof NodeOs },
): Platform {
  const { createHash } = crypto;
  // Only the main thread hands out workers: a worker reading a pack never starts another.
  let workers: WorkerHost | undefined;
  if (threads?.workerThreads.isMainThread) workers = createWorkerPool(threads.workerThreads, threads.os);
  const outbound = nodeOutbound();
  // Reused engines for one-shot calls with a known size (a pack's entries), where reachable.
  const oneShot = createOneShotZlib(zlib);
  return {
    name: 'node',
    ...(workers === undefined ? {} : { workers }),
    ...(outbound === undefined ? {} : { outbound }),
    ...(gc === undefined ? {} : { collectYoung: minorCollector(gc.v8, gc.vm) }),
    ...(files === undefined ? {} : { scratchFile: () => scratchFile(files.fs, files.os, crypto) }),
    createSha1: () => new NodeSha1(createHash),
    sha1: (data) => view(createHash('sha1').update(data).digest()),
    sha1Hex: oneShotSha1Hex(crypto),
    deflate: (data, level = 1) => (oneShot === undefined ? view(zlib.deflateSync(data, { level })) : oneShot.deflate(data, level)),
    createInflater: () => nodeInflater(zlib),
    createDeflater: (level) => nodeDeflater(zlib, level),
    inflate(data, maxOutput) {
      if (oneShot !== undefined && maxOutput !== undefined) {
        const r = oneShot.inflatePrefix(data, maxOutput);
        if (r === null) throw new Error('unexpected end of file');
        return r.output;
      }
      const max = maxOutput ?? 2 ** 31 - 1;
      try {
        // Without an expected size, zlib's own chunking (no 1 GiB chunk for a small stream).
        return view(zlib.inflateSync(data, { maxOutputLength: Math.max(1, max), ...(maxOutput === undefined ? {} : { chunkSize: chunkFor(max) }) }));
      } catch (err) {
        if (isTooLarge(err)) throw new OutputLimitError(`inflated data exceeds ${max} bytes`);
        throw err;
      }
    },
    inflatePrefix(data, maxOutput, into): InflatePrefixResult | null {
      if (oneShot !== undefined) return oneShot.inflatePrefix(data, maxOutput, into);
      try {
        // `info: true` exposes the engine, whose bytesWritten is the input consumed;
        // inflateSync ignores bytes after the end of the stream.
        const r = zlib.inflateSync(data, { info: true, maxOutputLength: Math.max(1, maxOutput), chunkSize: chunkFor(maxOutput) }) as unknown as {
          buffer: Buffer;
          engine: { bytesWritten: number };
        };
        return { output: view(r.buffer), consumed: r.engine.bytesWritten };
      } catch (err) {
        if (isTruncation(err)) return null;
        if (isTooLarge(err)) throw new OutputLimitError(`inflated data exceeds ${maxOutput} bytes`);
        throw err;
      }
    },
  };
}

/**
 * A scratch file in the OS temp folder, readable and writable by this process only, unlinked
 * as soon as it is open (POSIX), so a crash leaves nothing behind; where that fails (Windows),
 * unlinked when closed.
 */
function scratchFile(fs: typeof NodeFs, os: typeof NodeOs, crypto: typeof NodeCrypto): ScratchFile {
  const path = `${os.tmpdir()}/level-git-scratch-${crypto.randomBytes(8).toString('hex')}`;
  const fd = fs.openSync(path, 'wx+', 0o600);
  let unlinked = false;
  try {
    fs.unlinkSync(path);
    unlinked = true;
  } catch {
    // Removed at close instead.
  }
  let size = 0;
  return {
    append(bytes) {
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, size + done);
      size += bytes.length;
      return size - bytes.length;
    },
    read(position, length, into) {
      const out = into !== undefined && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
      for (let got = 0; got < length; ) {
        const n = fs.readSync(fd, out, got, length - got, position + got);
        if (n === 0) throw new Error('scratch file read past its end');
        got += n;
      }
      return out;
    },
    close() {
      fs.closeSync(fd);
      if (!unlinked) fs.rmSync(path, { force: true });
    },
  };
}

type GetBuiltinModule = (id: string) => unknown;

/**
 * The Node platform from the running process's own modules (`process.getBuiltinModule`: Node
 * 20.16+, Electron 32+, Bun, Deno 2), or `undefined` where the runtime has none (browsers).
 */
export function nodePlatformFromRuntime(): Platform | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  const crypto = get('node:crypto') as typeof NodeCrypto | undefined;
  const zlib = get('node:zlib') as typeof NodeZlib | undefined;
  if (crypto?.createHash === undefined || zlib?.inflateSync === undefined) return undefined;
  const workerThreads = get('node:worker_threads') as typeof NodeWorkerThreads | undefined;
  const os = get('node:os') as typeof NodeOs | undefined;
  const v8 = get('node:v8') as typeof NodeV8 | undefined;
  const vm = get('node:vm') as typeof NodeVm | undefined;
  const fs = get('node:fs') as typeof NodeFs | undefined;
  return createNodePlatform(
    crypto,
    zlib,
    workerThreads?.Worker !== undefined && os !== undefined ? { workerThreads, os } : undefined,
    typeof v8?.setFlagsFromString === 'function' && typeof vm?.runInNewContext === 'function' ? { v8, vm } : undefined,
    typeof fs?.openSync === 'function' && os !== undefined ? { fs, os } : undefined,
  );
}
