/**
 * `POST /repos/:repo/commits` with `content-type: application/x-ndjson`: a commit whose files
 * stream in, so a file of hundreds of MiB is never held (docs/api.md "Streamed commits").
 *   line 1     the commit's metadata: the JSON body's fields without `changes`
 *   then       one line per change: `{ path, content, encoding?, mode? }` a write,
 *              `{ path, delete: true }` a delete, `{ path, content, encoding?, append: true }`
 *              more bytes of the write on the line before (same path)
 * A file passing STREAM_OVER bytes is deflated as it arrives into chunks (object/chunked.ts)
 * and hashed from them once complete; smaller ones are held like the JSON body's. The budget
 * (`maxCommitChanges`, `maxCommitBytes`) is charged as lines arrive; any malformed line is a
 * 400 and nothing is committed (chunks already written are deleted).
 */
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { platform, type StreamDeflater } from '../../platform/index.js';
import { concat } from '../../platform/bytes.js';
import { ChunkSink, decodeChunked, hashChunked } from '../../object/chunked.js';
import { encodeEntryHeader } from '../../object/packed.js';
import type { TreeChange } from '../../repo/build-tree.js';
import { internalsOf } from '../../repo/internals.js';
import type { ObjectStore } from '../../object/object-store.js';
import { decodeBase64, isObject, type JsonBody } from './body.js';
import type { CommitBudget } from './commits.js';

/** Files bigger than this are streamed into chunks. */
export const STREAM_OVER = 4 * 1024 * 1024;
/** Longest line accepted (a chunk of a file is sent as many lines). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Whether a request's body is NDJSON. */
export function isNdjson(headers: Headers): boolean {
  return /^application\/x-ndjson\b/i.test(headers.get('content-type') ?? '');
}

/** The lines of a byte stream (without their `\n`), each at most MAX_LINE_BYTES. */
async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  for await (const chunk of body) {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      const part = chunk.subarray(from, nl);
      yield held.length === 0 ? part : concat([...held, part]);
      held = [];
      heldBytes = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      heldBytes += chunk.length - from;
      if (heldBytes > MAX_LINE_BYTES) throw new LimitExceededError(`an NDJSON line exceeds ${MAX_LINE_BYTES} bytes`, { details: { limit: MAX_LINE_BYTES } });
      held.push(chunk.slice(from));
    }
  }
  if (heldBytes > 0) yield concat(held);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseLine(bytes: Uint8Array, n: number): JsonBody {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new InvalidArgumentError(`NDJSON line ${n} is not a JSON value in UTF-8`, { cause });
  }
  if (!isObject(v)) throw new InvalidArgumentError(`NDJSON line ${n} must be a JSON object`);
  return v;
}

/** A file being written: held while small, streamed into chunks once big. */
interface OpenFile {
  path: string;
  mode?: string;
  parts: Uint8Array[];
  bytes: number;
  big?: { sink: ChunkSink; deflater: StreamDeflater };
}

/** What a streamed commit wrote before the commit: deleted unless its marker landed. */
interface Streamed {
  /** Set once the file is complete and hashed. */
  oid?: string;
  sink: ChunkSink;
}

/**
 * Reads an NDJSON commit body: the metadata (the first line, which `prepare` parses and judges
 * before any file is read) and the changes, with big files streamed into the repository's
 * chunks. Then `run` commits with them; chunks not committed are deleted.
 */
export async function ndjsonCommit<P, T>(
  body: AsyncIterable<Uint8Array> | null,
  repo: Parameters<typeof internalsOf>[0],
  budget: CommitBudget,
  prepare: (meta: JsonBody) => Promise<P>,
  run: (prepared: P, changes: TreeChange[]) => Promise<T>,
): Promise<T> {
  const store = internalsOf(repo).objects;
  const streamed: Streamed[] = [];
  let committed = false;
  try {
    const it = lines(body ?? (async function* () {})())[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new InvalidArgumentError('an NDJSON commit starts with a line of metadata');
    const meta = parseLine(first.value, 1);
    if (meta.changes !== undefined) throw new InvalidArgumentError('in an NDJSON commit, changes come one per line after the metadata');
    const prepared = await prepare(meta);
    const changes: TreeChange[] = [];
    let bytes = 0;
    let open: OpenFile | undefined;
    const spend = (k: number) => {
      bytes += k;
      if (bytes > budget.maxBytes)
        throw new LimitExceededError(`a commit may write at most ${budget.maxBytes} bytes of content`, { details: { limit: budget.maxBytes } });
    };
    const close = async () => {
      if (open === undefined) return;
      const f = open;
      open = undefined;
      changes.push(await closeFile(store, f, streamed));
    };
    for (let n = 2; ; n++) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.length === 0 || (r.value.length === 1 && r.value[0] === 13)) continue;
      const c = parseLine(r.value, n);
      if (typeof c.path !== 'string') throw new InvalidArgumentError(`NDJSON line ${n}: path must be a string`);
      if (c.append === true) {
        if (open === undefined || open.path !== c.path) throw new InvalidArgumentError(`NDJSON line ${n}: append must follow a write of the same path`);
        if (c.mode !== undefined) throw new InvalidArgumentError(`NDJSON line ${n}: the mode goes on the first line of a file`);
        await addContent(store, open, content(c, n), spend, streamed);
        continue;
      }
      if (c.append !== undefined && c.append !== false) throw new InvalidArgumentError(`NDJSON line ${n}: append must be true or absent`);
      await close();
      if (changes.length >= budget.maxChanges) {
        throw new LimitExceededError(`a commit may have at most ${budget.maxChanges} changes`, { details: { limit: budget.maxChanges } });
      }
      if (c.delete === true) {
        changes.push({ path: c.path, delete: true });
        continue;
      }
      if (c.delete !== undefined && c.delete !== false) throw new InvalidArgumentError(`NDJSON line ${n}: delete must be true or absent`);
      if (c.mode !== undefined && typeof c.mode !== 'string' && typeof c.mode !== 'number')
        throw new InvalidArgumentError(`NDJSON line ${n}: mode must be a string`);
      open = { path: c.path, parts: [], bytes: 0, ...(c.mode === undefined ? {} : { mode: String(c.mode) }) };
      await addContent(store, open, content(c, n), spend, streamed);
    }
    await close();
    const result = await run(prepared, changes);
    committed = true;
    return result;
  } finally {
    // Chunks whose marker did not land (a failure, a replay, a blob stored meanwhile) go.
    for (const s of streamed) {
      const ref = committed && s.oid !== undefined ? await store.chunkedRef(s.oid as never).catch(() => undefined) : undefined;
      if (ref === undefined || !sameBytes(ref.stream, s.sink.stream)) await s.sink.discard(store.kv).catch(() => undefined);
    }
  }
}

/** The bytes of a write line. */
function content(c: JsonBody, n: number): Uint8Array {
  if (typeof c.content !== 'string') throw new InvalidArgumentError(`NDJSON line ${n}: content must be a string`);
  const encoding = c.encoding ?? 'utf-8';
  if (encoding === 'utf-8' || encoding === 'utf8') return new TextEncoder().encode(c.content);
  if (encoding === 'base64') return decodeBase64(c.content, `line ${n} content`);
  throw new InvalidArgumentError(`NDJSON line ${n}: encoding must be "utf-8" or "base64"`);
}

/** Adds bytes to a file: held, or deflated into its chunks (opened once it passes STREAM_OVER). */
async function addContent(store: ObjectStore, f: OpenFile, bytes: Uint8Array, spend: (n: number) => void, streamed: Streamed[]): Promise<void> {
  spend(bytes.length);
  f.bytes += bytes.length;
  const create = platform().createDeflater;
  if (f.big === undefined) {
    f.parts.push(bytes);
    if (f.bytes <= STREAM_OVER || create === undefined || platform().createInflater === undefined) return;
    f.big = { sink: new ChunkSink(store.repoId, { headerFirst: true }), deflater: create(1) };
    streamed.push({ sink: f.big.sink });
    const held = f.parts;
    f.parts = [];
    for (const p of held) f.big.deflater.push(p, (z) => f.big!.sink.add(z));
  } else {
    f.big.deflater.push(bytes, (z) => f.big!.sink.add(z));
  }
  const ops = f.big.sink.takeOps();
  if (ops.length > 0) await store.kv.batch(ops);
}

/** The change a complete file makes: its bytes, or its chunks (hashed back from the store). */
async function closeFile(store: ObjectStore, f: OpenFile, streamed: Streamed[]): Promise<TreeChange> {
  const mode = f.mode === undefined ? {} : { mode: f.mode };
  if (f.big === undefined) return { path: f.path, content: concat(f.parts), ...mode };
  const { sink, deflater } = f.big;
  deflater.finish((z) => sink.add(z));
  const marker = sink.finish('blob', f.bytes, encodeEntryHeader(3, f.bytes));
  await store.kv.batch(sink.takeOps());
  const oid = await hashChunked(store.kv, store.repoId, decodeChunked(marker));
  const entry = streamed.find((s) => s.sink === sink);
  if (entry !== undefined) entry.oid = oid;
  const [exists] = await store.has([oid]);
  // Already stored: the commit names it, and these chunks go (the finally above).
  return exists ? { path: f.path, blob: oid, ...mode } : { path: f.path, blob: oid, stored: marker, ...mode };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
