/**
 * pkt-line framing (gitprotocol-common, "pkt-line Format"):
 *
 *   pkt-line     = data-pkt / flush-pkt / delim-pkt / response-end-pkt
 *   data-pkt     = pkt-len pkt-payload        ; pkt-len counts its own 4 bytes
 *   pkt-len      = 4*(HEXDIG)                 ; 0005..fff0 (65520) for data
 *   flush-pkt    = "0000"
 *   delim-pkt    = "0001"                     ; protocol v2 section separator
 *   response-end-pkt = "0002"                 ; v2 over stateful transports only, never over HTTP
 *
 * `decodePkt` is a pure decoder over one buffer ("complete: value + bytes consumed" or
 * "incomplete: bytes needed"); `PktReader` wraps it over an AsyncIterable of chunks and can hand
 * the raw bytes that follow the last packet to a pack parser (a push sends its pack right after
 * the commands, unframed).
 */
import { LimitExceededError, ProtocolError } from '../errors.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';

/** Largest packet including its 4-byte length header. */
export const MAX_PKT_LEN = 65520;
/** Largest payload of one data packet. */
export const MAX_PKT_PAYLOAD = MAX_PKT_LEN - 4;

/** `0000`: end of a message or section list. */
export const FLUSH_PKT: Uint8Array = utf8('0000');
/** `0001`: separates sections of a protocol v2 message. */
export const DELIM_PKT: Uint8Array = utf8('0001');
/** `0002`: end of a v2 response on stateful transports; never sent over HTTP. */
export const RESPONSE_END_PKT: Uint8Array = utf8('0002');

/** One decoded packet. */
export type Pkt = { type: 'data'; data: Uint8Array } | { type: 'flush' } | { type: 'delim' } | { type: 'response-end' };

/** Result of decoding at one position of a buffer. */
export type DecodeResult = { complete: true; pkt: Pkt; consumed: number } | { complete: false; needed: number };

const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_DIGIT[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_DIGIT[97 + i] = 10 + i;
  HEX_DIGIT[65 + i] = 10 + i;
}

/** Encodes one data packet; `data` (string as UTF-8) must fit in 65516 bytes. */
export function encodePkt(data: Uint8Array | string): Uint8Array {
  const body = typeof data === 'string' ? utf8(data) : data;
  if (body.length > MAX_PKT_PAYLOAD) throw new LimitExceededError(`pkt-line payload of ${body.length} bytes exceeds ${MAX_PKT_PAYLOAD}`);
  const out = new Uint8Array(body.length + 4);
  const len = body.length + 4;
  const hex = len.toString(16).padStart(4, '0');
  for (let i = 0; i < 4; i++) out[i] = hex.charCodeAt(i);
  out.set(body, 4);
  return out;
}

/** Encodes a text line as a data packet, adding the trailing LF git expects. */
export function encodePktLine(line: string): Uint8Array {
  return encodePkt(line + '\n');
}

/** Decodes the packet at `offset` of `buf` without copying its payload. */
export function decodePkt(buf: Uint8Array, offset = 0): DecodeResult {
  const avail = buf.length - offset;
  if (avail < 4) return { complete: false, needed: 4 - avail };
  let len = 0;
  for (let i = 0; i < 4; i++) {
    const d = HEX_DIGIT[buf[offset + i]!]!;
    if (d < 0) throw new ProtocolError(`bad pkt-line length ${JSON.stringify(fromUtf8(buf, offset, offset + 4))}`);
    len = (len << 4) | d;
  }
  if (len < 4) {
    if (len === 0) return { complete: true, pkt: { type: 'flush' }, consumed: 4 };
    if (len === 1) return { complete: true, pkt: { type: 'delim' }, consumed: 4 };
    if (len === 2) return { complete: true, pkt: { type: 'response-end' }, consumed: 4 };
    throw new ProtocolError('bad pkt-line length 0003');
  }
  if (len === 4) throw new ProtocolError('empty pkt-line (0004) is not allowed');
  if (len > MAX_PKT_LEN) throw new ProtocolError(`pkt-line length ${len} exceeds ${MAX_PKT_LEN}`);
  if (avail < len) return { complete: false, needed: len - avail };
  return { complete: true, pkt: { type: 'data', data: buf.subarray(offset + 4, offset + len) }, consumed: len };
}

/** The text of a data packet without its trailing LF. */
export function pktText(data: Uint8Array): string {
  const end = data.length > 0 && data[data.length - 1] === 10 ? data.length - 1 : data.length;
  return fromUtf8(data, 0, end);
}

/** Limits of a `PktReader`. */
export interface PktReaderLimits {
  /** Most packets one request may hold (flush and delim count too). */
  maxPackets: number;
}

/** Default reader limits: generous for real clients, small enough to stop a flood. */
export const DEFAULT_PKT_READER_LIMITS: PktReaderLimits = { maxPackets: 100_000 };

/** What `PktReader.read` returns: a packet or the end of the input. */
export type ReadResult = Pkt | { type: 'end' };

/**
 * Reads packets from a stream of chunks. Holds at most one packet (≤ 65520 bytes) plus one
 * chunk in memory. After the last packet, `rest()` yields every byte not yet consumed.
 */
export class PktReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private done = false;
  private count = 0;
  private readonly limits: PktReaderLimits;

  constructor(source: AsyncIterable<Uint8Array>, limits: Partial<PktReaderLimits> = {}) {
    this.it = source[Symbol.asyncIterator]();
    this.limits = { ...DEFAULT_PKT_READER_LIMITS, ...limits };
  }

  /** Number of packets read so far. */
  get packets(): number {
    return this.count;
  }

  /** Reads the next packet; `{type:'end'}` at a clean end of input; throws ProtocolError on a truncated packet. */
  async read(): Promise<ReadResult> {
    for (;;) {
      const r = decodePkt(this.buf, this.pos);
      if (r.complete) {
        if (++this.count > this.limits.maxPackets) {
          throw new LimitExceededError(`request has more than ${this.limits.maxPackets} pkt-lines`);
        }
        this.pos += r.consumed;
        return r.pkt;
      }
      if (!(await this.fill(r.needed))) {
        if (this.pos === this.buf.length) return { type: 'end' };
        throw new ProtocolError('input ends inside a pkt-line');
      }
    }
  }

  /** Reads a packet and requires it to be data; returns its text without LF. */
  async readLine(): Promise<string> {
    const p = await this.read();
    if (p.type !== 'data') throw new ProtocolError(`expected a pkt-line, got ${p.type}`);
    return pktText(p.data);
  }

  /** Every raw byte after the packets read so far (the pack of a push). Use once, after the last `read`. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.pos < this.buf.length) {
      const head = this.buf.subarray(this.pos);
      this.buf = new Uint8Array(0);
      this.pos = 0;
      yield head;
    }
    if (this.done) return;
    for (;;) {
      const n = await this.it.next();
      if (n.done) {
        this.done = true;
        return;
      }
      if (n.value.length > 0) yield n.value;
    }
  }

  /** Stops reading the source (releases the body stream). */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }

  /** Reads until at least `needed` more bytes are buffered (one copy per packet, however small the chunks). */
  private async fill(needed: number): Promise<boolean> {
    if (this.done) return false;
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < needed) {
      const n = await this.it.next();
      if (n.done) {
        this.done = true;
        break;
      }
      if (n.value.length === 0) continue;
      parts.push(n.value);
      got += n.value.length;
    }
    if (parts.length === 0) return false;
    const left = this.buf.length - this.pos;
    if (left === 0 && parts.length === 1) {
      this.buf = parts[0]!;
    } else {
      const merged = new Uint8Array(left + got);
      merged.set(this.buf.subarray(this.pos), 0);
      let o = left;
      for (const p of parts) {
        merged.set(p, o);
        o += p.length;
      }
      this.buf = merged;
    }
    this.pos = 0;
    return true;
  }
}

/** Decodes a whole buffer into packets (for tests and small bodies); throws on trailing garbage. */
export function decodeAllPkts(buf: Uint8Array): Pkt[] {
  const out: Pkt[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const r = decodePkt(buf, pos);
    if (!r.complete) throw new ProtocolError('input ends inside a pkt-line');
    out.push(r.pkt);
    pos += r.consumed;
  }
  return out;
}
