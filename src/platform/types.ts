/** An incremental SHA-1 hasher. */
export interface Sha1Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** Result of inflating one zlib stream that starts at the front of a buffer. */
export interface InflatePrefixResult {
  /** The inflated bytes. */
  output: Uint8Array;
  /** How many input bytes the zlib stream occupied (header, deflate data and Adler-32 trailer). */
  consumed: number;
}

/** The few primitives the engine needs from its runtime. */
export interface Platform {
  /** Shown in diagnostics; the built-in ones are 'node' and 'portable'. */
  readonly name: string;
  /** Creates an incremental SHA-1 hasher. */
  createSha1(): Sha1Hasher;
  /** SHA-1 of one buffer. */
  sha1(data: Uint8Array): Uint8Array;
  /** zlib-wraps (RFC 1950) `data`. */
  deflate(data: Uint8Array, level?: number): Uint8Array;
  /** Inflates a complete zlib stream; throws when it is corrupt or inflates past `maxOutput`. */
  inflate(data: Uint8Array, maxOutput?: number): Uint8Array;
  /**
   * Inflates the zlib stream at the start of `data`, which may be followed by other bytes.
   * Returns `null` when `data` ends before the stream does (the caller should supply more);
   * throws on corrupt data or when the output would pass `maxOutput`.
   */
  inflatePrefix(data: Uint8Array, maxOutput: number): InflatePrefixResult | null;
}
