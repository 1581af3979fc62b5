/**
 * Reading request input at the edge: the JSON body (size-limited, UTF-8, an object), its
 * fields and query parameters by type. Every refusal is a 400 ERR_INVALID_ARGUMENT naming the
 * field (413 ERR_LIMIT_EXCEEDED for a body over the limit). Route modules build their typed
 * options from these readers; nothing unchecked reaches the domain.
 */
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { DEFAULT_MAX_BODY_BYTES } from './options.js';
import type { RouteContext } from './router.js';

/** A parsed JSON request body. */
export type JsonBody = Record<string, unknown>;

/** Reads a JSON object body of at most `max` bytes (an empty body is `{}`). */
export async function readJsonBody(headers: Headers, body: AsyncIterable<Uint8Array> | null, max: number): Promise<JsonBody> {
  const declared = headers.get('content-length');
  if (declared !== null && Number(declared) > max) throw new LimitExceededError(`request body exceeds ${max} bytes`, { details: { limit: max } });
  const parts: Uint8Array[] = [];
  let total = 0;
  if (body) {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > max) throw new LimitExceededError(`request body exceeds ${max} bytes`, { details: { limit: max } });
      parts.push(chunk);
    }
  }
  let text: string;
  try {
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    text = new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch (cause) {
    throw new InvalidArgumentError('request body is not UTF-8', { cause });
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError('request body is not valid JSON', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('request body must be a JSON object');
  return value as JsonBody;
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonBody {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string field; absent or null is undefined. */
export function optString(body: JsonBody, key: string, what = key): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  return v;
}

/** A required string field. */
export function reqString(body: JsonBody, key: string, what = key): string {
  const v = optString(body, key, what);
  if (v === undefined) throw new InvalidArgumentError(`${what} is required`);
  return v;
}

/** A boolean field; absent or null is undefined. */
export function optBool(body: JsonBody, key: string, what = key): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${what} must be a boolean`);
  return v;
}

/** A positive safe integer field; absent or null is undefined. */
export function optPositiveInt(body: JsonBody, key: string, what = key): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return v;
}

/** A boolean query parameter: `true`/`1`, `false`/`0`/empty/absent. */
export function queryBool(url: URL, key: string): boolean {
  const v = url.searchParams.get(key);
  if (v === null || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new InvalidArgumentError(`query parameter ${key} must be true or false`);
}

/** Sextet of each base64 character code; -2 for whitespace (skipped), -1 for anything else. */
const SEXTET = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
for (const c of [9, 10, 11, 12, 13, 32]) SEXTET[c] = -2;

/** Bytes base64 text of `length` characters decodes to at most (the room `decodeBase64Into` needs). */
export function base64Room(length: number): number {
  return Math.ceil(length / 4) * 3;
}

/**
 * Strict base64 (whitespace ignored, `=` only as the last one or two of a multiple of 4), given
 * as its ASCII bytes, decoded into `out` (at least `base64Room(text.length)` long); returns the
 * bytes written. Nothing is allocated: NDJSON commits decode every line of a big file straight
 * from the request's bytes into one reused buffer.
 */
export function decodeBase64Into(text: Uint8Array, out: Uint8Array, what = 'content'): number {
  let acc = 0;
  let have = 0;
  let n = 0;
  let pad = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text[i]!;
    const v = SEXTET[code]!;
    if (v === -2) continue;
    if (code === 61 && have >= 2) {
      pad++; // '=': only padding may follow
      have++;
      if (pad > 2) break;
      continue;
    }
    if (v < 0 || pad > 0) throw new InvalidArgumentError(`${what} is not valid base64`);
    acc = (acc << 6) | v;
    if (++have === 4) {
      out[n] = acc >> 16;
      out[n + 1] = (acc >> 8) & 0xff;
      out[n + 2] = acc & 0xff;
      n += 3;
      acc = 0;
      have = 0;
    }
  }
  if (pad > 2 || (have !== 0 && have !== 4)) throw new InvalidArgumentError(`${what} is not valid base64`);
  if (pad > 0) {
    // The last group ends in padding: 2 sextets give 1 byte, 3 give 2.
    acc <<= 6 * pad;
    out[n] = acc >> 16;
    if (pad === 1) out[n + 1] = (acc >> 8) & 0xff;
    n += 3 - pad;
  }
  return n;
}

/** Strict base64 (whitespace ignored) to bytes. */
export function decodeBase64(s: string, what = 'content'): Uint8Array {
  const out = new Uint8Array(base64Room(s.length));
  // Any character outside ASCII becomes bytes of 0x80 and up, which are not base64.
  return out.subarray(0, decodeBase64Into(new TextEncoder().encode(s), out, what));
}

/** The JSON body of a route's request, within the API's body limit. */
export function readJson(ctx: Pick<RouteContext, 'req' | 'options'>): Promise<JsonBody> {
  return readJsonBody(ctx.req.headers, ctx.req.body, ctx.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
}
