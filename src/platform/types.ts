/** An incremental SHA-1 hasher. */
export interface Sha1Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** Result of inflating one zlib stream that starts at the front of a buffer. */
/** A temporary file written at its end and read anywhere (Platform.scratchFile). */
export interface ScratchFile {
  /** Writes `bytes` at the end of the file; returns where they start. */
  append(bytes: Uint8Array): number;
  /**
   * The `length` bytes at `position`; with `into` (at least `length` long), they may be read
   * into it (the caller then reuses its memory) and a view of it returned.
   */
  read(position: number, length: number, into?: Uint8Array): Uint8Array;
  /** Closes the file (its bytes are gone). */
  close(): void;
}

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
  /**
   * SHA-1 of the ASCII string `head` followed by `body`, as 40 lower-case hex characters, in one
   * call (optional): an object id without a hasher per object (Node's one-shot `crypto.hash`).
   */
  sha1Hex?(head: string, body: Uint8Array): string;
  /** zlib-wraps (RFC 1950) `data`. */
  deflate(data: Uint8Array, level?: number): Uint8Array;
  /**
   * zlib-wraps many buffers at once, asynchronously (optional): where the runtime's own zlib is
   * only reachable through promises (CompressionStream in browsers), a batch beats `deflate`
   * per buffer. Any valid zlib stream of each buffer will do (the level may differ).
   */
  deflateMany?(data: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** Inflates a complete zlib stream; throws when it is corrupt or inflates past `maxOutput`. */
  inflate(data: Uint8Array, maxOutput?: number): Uint8Array;
  /**
   * Inflates the zlib stream at the start of `data`, which may be followed by other bytes.
   * Returns `null` when `data` ends before the stream does (the caller should supply more);
   * throws on corrupt data or when the output would pass `maxOutput`. `into` (at least
   * `maxOutput + 1` bytes; an implementation may ignore it): where to inflate, so a caller can
   * carve outputs from shared buffers instead of a fresh one per call.
   */
  inflatePrefix(data: Uint8Array, maxOutput: number, into?: Uint8Array): InflatePrefixResult | null;
  /** A streaming inflater (optional: without it, big entries are inflated whole). */
  createInflater?(): StreamInflater;
  /** A streaming deflater at `level` (optional: without it, big bodies are deflated whole). */
  createDeflater?(level?: number): StreamDeflater;
  /**
   * Frees short-lived garbage now (optional; Node: a minor collection). Called by code that
   * receives hundreds of MiB in fresh buffers while allocating little else (node-impl.ts says why).
   */
  collectYoung?(): void;
  /**
   * A temporary file for bytes a job cannot keep in memory (optional; Node: a file in the OS
   * temp folder, removed from it as soon as it is open). Absent: the job keeps less instead.
   */
  scratchFile?(): ScratchFile;
  /** Worker threads for CPU-heavy jobs (Node); absent where the runtime has none (they run inline). */
  readonly workers?: WorkerHost;
  /** HTTP requests to other servers with the resolved addresses checked (Node); absent: global `fetch` is used. */
  readonly outbound?: OutboundFetch;
}

/** One job's end of a message channel to a worker thread. */
export interface JobPort {
  /** Sends a structured-clonable message; the buffers in `transfer` move instead of being copied. */
  post(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  /** Receives the other end's messages (one handler); in a worker, `null` once the main thread closed the job. */
  onMessage(handler: (message: unknown) => void): void;
  /** Called once if the worker thread dies while the job is open (main-thread side only). */
  onFailure(handler: (err: Error) => void): void;
  /** Ends the job (either side); idempotent. */
  close(): void;
}

/** Runs jobs on a pool of worker threads (Node's `worker_threads`). */
export interface WorkerHost {
  /**
   * Opens a job in a pooled worker: the worker imports the module at the URL `module` (once)
   * and calls its `serveJob(port: JobPort)` export with the other end of the returned port.
   */
  open(module: string): JobPort;
  /**
   * Readies a thread for a job expected soon (a push, once its advertisement was served): an
   * idle thread imports `module`, or one is started for it while the pool has room. It ends
   * after the pool's idle time like any idle thread. Optional: hosts without it start threads
   * on `open`.
   */
  prepare?(module: string): void;
  /** The module extension workers load in this build (`'js'`, or `'ts'` when run from sources). */
  readonly ext: 'js' | 'ts';
}

/** An HTTP request to another server (a Git remote, a webhook receiver). */
export interface OutboundRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** The body: whole (sent with a Content-Length), or a stream sent as it is produced (chunked). */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

/** The answer to an OutboundRequest; redirects are not followed (the caller decides). */
export interface OutboundResponse {
  status: number;
  /** A response header by (case-insensitive) name, or null. */
  header(name: string): string | null;
  /** The body as it arrives; ends early (throws) when the request's signal aborts. */
  body: AsyncIterable<Uint8Array>;
}

/** Judges the addresses a host name resolved to, before any connection; throws to refuse. */
export type AddressCheck = (host: string, addresses: readonly string[]) => void;

/**
 * Sends a request, calling `check` with every address the host name resolves to and connecting
 * only to an address it accepted (no second resolution an attacker's DNS could answer otherwise).
 */
export type OutboundFetch = (url: URL, request: OutboundRequest, check: AddressCheck) => Promise<OutboundResponse>;
/**
 * A stateful inflater of one zlib stream fed in pieces (big pack entries, chunked objects):
 * output is handed out as it is produced, in pieces of a bounded size, never held whole.
 */
export interface StreamInflater {
  /**
   * Feeds `input`; `onData` receives each output piece (a view valid only during the call).
   * Returns how many bytes of `input` belonged to the stream: fewer than `input.length` once
   * the stream ended inside it. Throws on corrupt data.
   */
  push(input: Uint8Array, onData: (piece: Uint8Array) => void): number;
  /** Whether the end of the stream (its Adler-32 trailer) was reached. */
  readonly ended: boolean;
  /** Releases the native state (idempotent). */
  close(): void;
}

/** A stateful deflater of one zlib stream fed in pieces. */
export interface StreamDeflater {
  /** Feeds `input`; `onData` receives compressed pieces (views valid only during the call). */
  push(input: Uint8Array, onData: (piece: Uint8Array) => void): void;
  /** Ends the stream, handing out the rest and its trailer; then closes. */
  finish(onData: (piece: Uint8Array) => void): void;
  /** Releases the native state (idempotent). */
  close(): void;
}
