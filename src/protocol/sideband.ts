/**
 * Side-band multiplexing (gitprotocol-pack, "side-band, side-band-64k"): each data pkt-line
 * carries one channel byte before its payload.
 *
 *   sideband-pkt = pkt-len channel payload
 *   channel      = %x01 (pack data) / %x02 (progress, printed by the client) / %x03 (fatal error)
 *
 * With side-band-64k a packet holds at most 65520 bytes, so at most 65515 payload bytes.
 * Plain `side-band` (1000-byte packets) is supported through `maxPayload`.
 */
import { ProtocolError } from '../errors.js';
import { utf8 } from '../platform/bytes.js';
import { MAX_PKT_LEN } from './pkt-line.js';

/** Largest payload of a side-band-64k packet. */
export const MAX_SIDEBAND_PAYLOAD = MAX_PKT_LEN - 5;
/** Largest payload of a plain side-band packet (1000-byte packets). */
export const MAX_SIDEBAND_SMALL_PAYLOAD = 1000 - 5;

/** Side-band channels. */
export type SidebandChannel = 1 | 2 | 3;

function frame(channel: SidebandChannel, data: Uint8Array, start: number, end: number): Uint8Array {
  const len = end - start + 5;
  const out = new Uint8Array(len);
  const hex = len.toString(16).padStart(4, '0');
  for (let i = 0; i < 4; i++) out[i] = hex.charCodeAt(i);
  out[4] = channel;
  out.set(data.subarray(start, end), 5);
  return out;
}

/** Frames `data` as consecutive packets written into one buffer (one copy, one write downstream). */
function frameAll(channel: SidebandChannel, data: Uint8Array, maxPayload: number): Uint8Array {
  const packets = Math.ceil(data.length / maxPayload);
  const out = new Uint8Array(data.length + packets * 5);
  let o = 0;
  for (let i = 0; i < data.length; i += maxPayload) {
    const end = Math.min(data.length, i + maxPayload);
    const len = end - i + 5;
    const hex = len.toString(16).padStart(4, '0');
    for (let k = 0; k < 4; k++) out[o + k] = hex.charCodeAt(k);
    out[o + 4] = channel;
    out.set(data.subarray(i, end), o + 5);
    o += len;
  }
  return out;
}

/** Frames `data` on `channel` as one or more packets of at most `maxPayload` bytes each. */
export function encodeSideband(channel: SidebandChannel, data: Uint8Array | string, maxPayload = MAX_SIDEBAND_PAYLOAD): Uint8Array[] {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  if (maxPayload < 1 || maxPayload > MAX_SIDEBAND_PAYLOAD) throw new RangeError('maxPayload out of range');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += maxPayload) out.push(frame(channel, bytes, i, Math.min(bytes.length, i + maxPayload)));
  return out;
}

/** A progress message on channel 2 (git prints it as `remote: ...`). */
export function encodeProgress(message: string): Uint8Array[] {
  return encodeSideband(2, message);
}

/** A fatal error on channel 3 (git prints it and stops). */
export function encodeSidebandError(message: string): Uint8Array[] {
  return encodeSideband(3, message.endsWith('\n') ? message : message + '\n');
}

/** The 5-byte header (length, channel) of a side-band packet carrying `payload` bytes. */
export function sidebandHeader(channel: SidebandChannel, payload: number): Uint8Array {
  const out = new Uint8Array(5);
  const hex = (payload + 5).toString(16).padStart(4, '0');
  for (let i = 0; i < 4; i++) out[i] = hex.charCodeAt(i);
  out[4] = channel;
  return out;
}

/**
 * Wraps a byte stream on channel 1 as parts: each packet's 5-byte header, then its payload as a
 * view (`subarray`) of the source chunk. Nothing of the pack is copied, so a chunk shared by
 * many clients (the pack cache) stays one buffer however many responses carry it. The
 * concatenation of the parts is the framed stream; a failure of `source` ends it as
 * `sidebandStream` does (channel-3 packet, then SidebandAbort). `progress` hands over the
 * progress lines due (channel 2), asked before each chunk and once at the end.
 */
export async function* sidebandParts(
  source: AsyncIterable<Uint8Array>,
  options: { maxPayload?: number; onError?: (err: unknown) => string; progress?: () => readonly string[] } = {},
): AsyncGenerator<Uint8Array> {
  const max = options.maxPayload ?? MAX_SIDEBAND_PAYLOAD;
  // Progress lines waiting to go out on channel 2, taken before each chunk and at the end.
  const progress = function* (): Generator<Uint8Array> {
    for (const line of options.progress?.() ?? []) yield* encodeSideband(2, line, max);
  };
  try {
    for await (const chunk of source) {
      yield* progress();
      for (let i = 0; i < chunk.length; i += max) {
        const end = Math.min(chunk.length, i + max);
        yield sidebandHeader(1, end - i);
        yield chunk.subarray(i, end);
      }
    }
    yield* progress();
  } catch (err) {
    const msg = options.onError ? options.onError(err) : err instanceof Error ? err.message : String(err);
    for (const p of encodeSidebandError(msg)) yield p;
    throw new SidebandAbort(msg);
  }
}

/**
 * Wraps a byte stream on channel 1, splitting chunks larger than `maxPayload`; each yielded
 * chunk is whole packets (a copy of the source chunk: servers use `sidebandParts`). An error raised
 * by `source` becomes a channel-3 packet (the response already started, so no status can change);
 * the stream then ends without a flush so the client cannot mistake it for success.
 */
export async function* sidebandStream(
  source: AsyncIterable<Uint8Array>,
  options: { maxPayload?: number; onError?: (err: unknown) => string } = {},
): AsyncGenerator<Uint8Array> {
  const max = options.maxPayload ?? MAX_SIDEBAND_PAYLOAD;
  try {
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      yield chunk.length <= max ? frame(1, chunk, 0, chunk.length) : frameAll(1, chunk, max);
    }
  } catch (err) {
    const msg = options.onError ? options.onError(err) : err instanceof Error ? err.message : String(err);
    for (const p of encodeSidebandError(msg)) yield p;
    throw new SidebandAbort(msg);
  }
}

/** Thrown after a channel-3 error packet was emitted: the response must end without a flush. */
export class SidebandAbort extends Error {
  override name = 'SidebandAbort';
}

/** Splits a side-band packet payload into its channel and data. */
export function decodeSideband(payload: Uint8Array): { channel: SidebandChannel; data: Uint8Array } {
  const ch = payload[0];
  if (ch !== 1 && ch !== 2 && ch !== 3) throw new ProtocolError(`bad side-band channel ${ch}`);
  return { channel: ch, data: payload.subarray(1) };
}
