/**
 * The lines of an NDJSON commit, split and parsed without a string or buffer per line for a big
 * file's content: a line spanning pieces of the body is gathered in one reused buffer, and the
 * `content` of a long line is left as a view of its bytes (decoded by the caller into another
 * reused buffer), so the JSON parser only sees the rest. A file of hundreds of MiB sent as 1 MiB
 * lines would otherwise leave megabytes of strings per line for the garbage collector, and RSS
 * would grow by tens of MiB before it ran.
 */
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { isObject, type JsonBody } from './body.js';

/** Longest line accepted (a chunk of a file is sent as many lines). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Lines from this length on have their `content` left as bytes (see `parseLine`). */
const RAW_CONTENT_FROM = 64 * 1024;

/** A growable buffer reused from line to line (what it holds is valid until its next use). */
export class Scratch {
  #buf = new Uint8Array(64 * 1024);

  /** A buffer of at least `n` bytes (the same one while it is big enough). */
  room(n: number): Uint8Array {
    if (this.#buf.length < n) this.#buf = new Uint8Array(Math.max(n, this.#buf.length * 2));
    return this.#buf;
  }
}

/** The lines of a byte stream (without their `\n`), each at most MAX_LINE_BYTES and valid until the next one is asked for. */
export async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const scratch = new Scratch();
  let held = 0;
  const hold = (part: Uint8Array) => {
    if (held + part.length > MAX_LINE_BYTES)
      throw new LimitExceededError(`an NDJSON line exceeds ${MAX_LINE_BYTES} bytes`, { details: { limit: MAX_LINE_BYTES } });
    const old = scratch.room(0);
    const buf = scratch.room(held + part.length);
    if (buf !== old) buf.set(old.subarray(0, held));
    buf.set(part, held);
    held += part.length;
  };
  for await (const chunk of body) {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      const part = chunk.subarray(from, nl);
      if (held === 0) yield part;
      else {
        hold(part);
        const line = scratch.room(0).subarray(0, held);
        held = 0;
        yield line;
      }
      from = nl + 1;
    }
    if (from < chunk.length) hold(chunk.subarray(from));
  }
  if (held > 0) yield scratch.room(0).subarray(0, held);
}

/** A parsed line; `rawContent` is set (and `content` is not) when a long line's content was left as bytes. */
export interface NdjsonLine {
  fields: JsonBody;
  /** The bytes between the quotes of the top-level `content` string (no escapes in it); valid until the next line. */
  rawContent?: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseJson(text: string, n: number): JsonBody {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(`NDJSON line ${n} is not a JSON value in UTF-8`, { cause });
  }
  if (!isObject(v)) throw new InvalidArgumentError(`NDJSON line ${n} must be a JSON object`);
  return v;
}

function decode(bytes: Uint8Array, n: number): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidArgumentError(`NDJSON line ${n} is not a JSON value in UTF-8`, { cause });
  }
}

/**
 * Parses line `n`. A long line whose top-level `content` is a string without escapes (what any
 * JSON encoder writes for base64) is parsed with that string emptied, and its bytes handed back
 * as `rawContent`; any other line is parsed whole.
 */
export function parseLine(bytes: Uint8Array, n: number): NdjsonLine {
  const at = bytes.length >= RAW_CONTENT_FROM ? contentRange(bytes) : undefined;
  if (at === undefined) return { fields: parseJson(decode(bytes, n), n) };
  const fields = parseJson(`${decode(bytes.subarray(0, at[0]), n)}""${decode(bytes.subarray(at[1]), n)}`, n);
  // A second `content` key (JSON.parse keeps the last): parsed whole, as any other line.
  if (fields.content !== '') return { fields: parseJson(decode(bytes, n), n) };
  delete fields.content;
  return { fields, rawContent: bytes.subarray(at[0] + 1, at[1] - 1) };
}

const QUOTE = 34;
const BACKSLASH = 92;
const isSpace = (c: number | undefined) => c === 32 || c === 9 || c === 10 || c === 13;
const CONTENT = [99, 111, 110, 116, 101, 110, 116]; // "content"

/**
 * Where the value of the top-level key `content` lies in a JSON object line, quotes included:
 * [start, end), when it is a string without a backslash; otherwise undefined (the line is then
 * parsed whole, which also reports any syntax error).
 */
function contentRange(b: Uint8Array): [number, number] | undefined {
  let i = 0;
  const ws = () => {
    while (isSpace(b[i])) i++;
  };
  /** Skips a string at i; returns [start, end) and whether it had an escape (or a control character). */
  const str = (): [number, number, boolean] | undefined => {
    if (b[i] !== QUOTE) return undefined;
    const start = i++;
    let escaped = false;
    while (i < b.length && b[i] !== QUOTE) {
      // A raw control character is not JSON: the whole-line parse reports it.
      if (b[i]! < 0x20) escaped = true;
      if (b[i] === BACKSLASH) {
        escaped = true;
        i++;
      }
      i++;
    }
    if (i >= b.length) return undefined;
    i++;
    return [start, i, escaped];
  };
  /** Skips any value at i (nested objects and arrays by depth, strings by quotes). */
  const value = (): boolean => {
    if (b[i] === QUOTE) return str() !== undefined;
    let depth = 0;
    while (i < b.length) {
      const c = b[i]!;
      if (c === QUOTE) {
        if (str() === undefined) return false;
        continue;
      }
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth === 0) return true;
        depth--;
      } else if (c === 44 && depth === 0) return true;
      i++;
    }
    return false;
  };
  ws();
  if (b[i++] !== 123) return undefined;
  for (;;) {
    ws();
    const key = str();
    if (key === undefined) return undefined;
    ws();
    if (b[i++] !== 58) return undefined;
    ws();
    const isContent = !key[2] && key[1] - key[0] === CONTENT.length + 2 && CONTENT.every((c, k) => b[key[0] + 1 + k] === c);
    if (isContent) {
      const v = str();
      return v === undefined || v[2] ? undefined : [v[0], v[1]];
    }
    if (!value()) return undefined;
    ws();
    if (b[i] !== 44) return undefined;
    i++;
  }
}
