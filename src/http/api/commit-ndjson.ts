/**
 * `POST /repos/:repo/commits` with `content-type: application/x-ndjson`: a commit whose files
 * stream in, so a file of hundreds of MiB is never held (docs/api.md "Streamed commits").
 *   line 1     the commit's metadata: the JSON body's fields without `changes`
 *   then       one line per change: `{ path, content, encoding?, mode?, size? }` a write,
 *              `{ path, delete: true }` a delete, `{ path, content, encoding?, append: true }`
 *              more bytes of the write on the line before (same path)
 * A file passing STREAM_OVER bytes (or declaring a `size` over it) is deflated into chunks as
 * it arrives (ndjson-blob.ts: one pass with a declared size, else a bounded read back to hash
 * it); smaller ones are held like the JSON body's. Each line is split, decoded and consumed in
 * buffers reused from line to line, so a big file's memory does not grow with its lines. The
 * budget (`maxCommitChanges`, `maxCommitBytes`, a declared size at once) is charged as lines
 * arrive; any malformed line, or a file whose length is not its declared size, is a 400 and
 * nothing is committed (chunks already written are deleted).
 */
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { concat } from '../../platform/bytes.js';
import type { ChunkSink } from '../../object/chunked.js';
import { youngGarbage } from '../../platform/index.js';
import type { TreeChange } from '../../repo/build-tree.js';
import { internalsOf } from '../../repo/internals.js';
import type { ObjectStore } from '../../object/object-store.js';
import { base64Room, decodeBase64Into, type JsonBody } from './body.js';
import type { CommitBudget } from './commits.js';
import { StreamedBlob, canStream } from './ndjson-blob.js';
import { type NdjsonLine, Scratch, lines, parseLine } from './ndjson-line.js';

/** Files bigger than this are streamed into chunks. */
export const STREAM_OVER = 4 * 1024 * 1024;

/**
 * The body's pieces, with young garbage collected as they arrive (platform `youngGarbage`):
 * every piece is a fresh buffer from the network and every chunk written another, while little
 * else is allocated (docs/benchmarks.md, "NDJSON commits").
 */
async function* collecting(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const consumed = youngGarbage();
  for await (const piece of body) {
    yield piece;
    consumed(piece.length);
  }
}

/** Whether a request's body is NDJSON. */
export function isNdjson(headers: Headers): boolean {
  return /^application\/x-ndjson\b/i.test(headers.get('content-type') ?? '');
}

/** A file being written: held while small, streamed into chunks once big. */
interface OpenFile {
  path: string;
  mode?: string;
  /** The `size` its first line declared. */
  size?: number;
  parts: Uint8Array[];
  bytes: number;
  big?: StreamedBlob;
}

/** What a streamed commit wrote before the commit: deleted unless its marker landed. */
interface Streamed {
  /** Set once the file is complete and hashed. */
  oid?: string;
  sink: ChunkSink;
}

/** Throws the 413 of a commit past its byte budget. */
function overBudget(budget: CommitBudget): never {
  throw new LimitExceededError(`a commit may write at most ${budget.maxBytes} bytes of content`, { details: { limit: budget.maxBytes } });
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
  const scratch = new Scratch();
  let committed = false;
  let open: OpenFile | undefined;
  try {
    const it = lines(collecting(body ?? (async function* () {})()))[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new InvalidArgumentError('an NDJSON commit starts with a line of metadata');
    const meta = parseLine(first.value, 1).fields;
    if (meta.changes !== undefined) throw new InvalidArgumentError('in an NDJSON commit, changes come one per line after the metadata');
    const prepared = await prepare(meta);
    const changes: TreeChange[] = [];
    // Bytes charged: those arrived, and the rest of the open file's declared size.
    let bytes = 0;
    const spend = (k: number) => {
      bytes += k;
      if (bytes > budget.maxBytes) overBudget(budget);
    };
    const close = async () => {
      if (open === undefined) return;
      const f = open;
      changes.push(await closeFile(store, f, streamed));
      open = undefined;
    };
    for (let n = 2; ; n++) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.length === 0 || (r.value.length === 1 && r.value[0] === 13)) continue;
      const line = parseLine(r.value, n);
      const c = line.fields;
      if (typeof c.path !== 'string') throw new InvalidArgumentError(`NDJSON line ${n}: path must be a string`);
      if (c.append === true) {
        if (open === undefined || open.path !== c.path) throw new InvalidArgumentError(`NDJSON line ${n}: append must follow a write of the same path`);
        if (c.mode !== undefined || c.size !== undefined) throw new InvalidArgumentError(`NDJSON line ${n}: mode and size go on the first line of a file`);
        await addContent(store, open, content(line, n, scratch), n, open.size === undefined ? spend : () => {}, streamed);
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
      if (c.size !== undefined && (typeof c.size !== 'number' || !Number.isSafeInteger(c.size) || c.size < 0))
        throw new InvalidArgumentError(`NDJSON line ${n}: size must be a non-negative integer (the file's length in bytes)`);
      open = { path: c.path, parts: [], bytes: 0, ...(c.mode === undefined ? {} : { mode: String(c.mode) }) };
      if (c.size !== undefined) {
        // Charged whole at once: a file the budget cannot take is refused before its bytes arrive.
        spend(c.size);
        open.size = c.size;
        if (c.size > STREAM_OVER && canStream()) startStream(store, open, streamed);
      }
      await addContent(store, open, content(line, n, scratch), n, open.size === undefined ? spend : () => {}, streamed);
    }
    await close();
    const result = await run(prepared, changes);
    committed = true;
    return result;
  } finally {
    open?.big?.close();
    // Chunks whose marker did not land (a failure, a replay, a blob stored meanwhile) go.
    for (const s of streamed) {
      const ref = committed && s.oid !== undefined ? await store.chunkedRef(s.oid as never).catch(() => undefined) : undefined;
      if (ref === undefined || !sameBytes(ref.stream, s.sink.stream)) await s.sink.discard(store.kv).catch(() => undefined);
    }
  }
}

/** The bytes of a write line, decoded into `scratch` (valid until the next line). */
function content(line: NdjsonLine, n: number, scratch: Scratch): Uint8Array {
  const c = line.fields;
  const encoding = c.encoding ?? 'utf-8';
  if (line.rawContent !== undefined && encoding === 'base64') {
    const buf = scratch.room(base64Room(line.rawContent.length));
    return buf.subarray(0, decodeBase64Into(line.rawContent, buf, `line ${n} content`));
  }
  // Text left as bytes: its string is made here (JSON without escapes is the UTF-8 text itself).
  if (line.rawContent !== undefined) c.content = decodeText(line.rawContent, n);
  if (typeof c.content !== 'string') throw new InvalidArgumentError(`NDJSON line ${n}: content must be a string`);
  if (encoding === 'utf-8' || encoding === 'utf8') {
    // Text lines longer than a few MiB are encoded on their own (their room would be 3× their length).
    if (c.content.length > STREAM_OVER) return new TextEncoder().encode(c.content);
    const buf = scratch.room(c.content.length * 3);
    return buf.subarray(0, new TextEncoder().encodeInto(c.content, buf).written);
  }
  if (encoding === 'base64') {
    const text = new TextEncoder().encode(c.content);
    const buf = scratch.room(base64Room(text.length));
    return buf.subarray(0, decodeBase64Into(text, buf, `line ${n} content`));
  }
  throw new InvalidArgumentError(`NDJSON line ${n}: encoding must be "utf-8" or "base64"`);
}

function decodeText(bytes: Uint8Array, n: number): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new InvalidArgumentError(`NDJSON line ${n} is not a JSON value in UTF-8`, { cause });
  }
}

/** Opens the file's stream of chunks (with its declared size, when it has one). */
function startStream(store: ObjectStore, f: OpenFile, streamed: Streamed[]): StreamedBlob {
  const big = new StreamedBlob(store, f.path, f.size);
  f.big = big;
  streamed.push({ sink: big.sink });
  return big;
}

/** Adds bytes (read during the call only) to a file: held, or streamed into its chunks once past STREAM_OVER. */
async function addContent(store: ObjectStore, f: OpenFile, bytes: Uint8Array, n: number, spend: (n: number) => void, streamed: Streamed[]): Promise<void> {
  spend(bytes.length);
  let big = f.big;
  if (big === undefined) {
    f.bytes += bytes.length;
    if (f.size !== undefined && f.bytes > f.size) tooLong(f, n);
    f.parts.push(bytes.slice());
    if (f.bytes <= STREAM_OVER || !canStream()) return;
    big = startStream(store, f, streamed);
    for (const p of f.parts) big.push(p, n);
    f.parts = [];
  } else {
    big.push(bytes, n);
    f.bytes = big.bytes;
  }
  await big.flush();
}

function tooLong(f: OpenFile, n: number): never {
  throw new InvalidArgumentError(`NDJSON line ${n}: "${f.path}" is longer than its declared size ${f.size}`, { details: { path: f.path, size: f.size } });
}

/** The change a complete file makes: its bytes, or its chunks' marker and id. */
async function closeFile(store: ObjectStore, f: OpenFile, streamed: Streamed[]): Promise<TreeChange> {
  const mode = f.mode === undefined ? {} : { mode: f.mode };
  if (f.big === undefined) {
    if (f.size !== undefined && f.bytes !== f.size) {
      throw new InvalidArgumentError(`"${f.path}" has ${f.bytes} bytes, not its declared size ${f.size}`, { details: { path: f.path, size: f.size } });
    }
    return { path: f.path, content: concat(f.parts), ...mode };
  }
  const { oid, marker } = await f.big.finish();
  const entry = streamed.find((s) => s.sink === f.big!.sink);
  if (entry !== undefined) entry.oid = oid;
  const [exists] = await store.has([oid]);
  // Already stored: the commit names it, and these chunks go (the finally above).
  return exists ? { path: f.path, blob: oid, ...mode } : { path: f.path, blob: oid, stored: marker, ...mode };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
