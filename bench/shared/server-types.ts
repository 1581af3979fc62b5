/**
 * What the runner needs from every server under test: where a repository lives, how to
 * create one, and how much CPU and memory serving it cost.
 */

/** Counters a server keeps about the Git traffic it served since the last reset. */
export interface ServerStats {
  requests: number;
  /** Response body bytes of `git-upload-pack` POSTs (≈ pack bytes sent, plus sideband framing). */
  uploadPackBytes: number;
  /** Request body bytes of `git-receive-pack` POSTs (≈ pack bytes pushed). */
  receivePackBytes: number;
  /** Largest peak RSS of any child process (C git's CGI children), KiB; null if not measured. */
  childPeakRssKb: number | null;
  /** Requests the replay proxy had no recording for. */
  misses: number;
}

/** One server under test. */
export interface BenchServer {
  /** Short name used in tables: level-git, cgit, cgit-gc, floor, remote. */
  readonly name: string;
  /** URL of a repository, e.g. http://127.0.0.1:1234/name.git */
  url(repo: string): string;
  /** CPU milliseconds spent serving Git so far (monotonic), or null when not measurable. */
  cpuMs(): number | null;
  /**
   * CPU milliseconds of the HTTP front that carries the responses (monotonic), where it is not
   * part of `cpuMs`: C git's CGI wrapper (http-backend-main.ts) reads each response from the
   * CGI's pipe and writes it to the socket. Absent where the server is its own front (level-git).
   */
  frontCpuMs?(): number | null;
  /** Peak resident set of the serving process(es) since the last resetPeak, KiB, or null. */
  peakRssKb(): Promise<number | null>;
  /** Starts a new peak-RSS window. */
  resetPeak(): Promise<void>;
  /** Creates an empty repository (HEAD → refs/heads/main). */
  createRepo(name: string): Promise<void>;
  /** Traffic counters since the last resetStats. */
  stats(): Promise<ServerStats>;
  resetStats(): Promise<void>;
  /** Resolves when no request is in flight and every child has been reaped (so CPU is final). */
  idle(): Promise<void>;
  stop(): Promise<void>;
  /** Database statements the server has sent so far (level-git over PostgreSQL only). */
  queries?(): Promise<DbCounts>;
}

/** Statements a server sent to its database so far (monotonic); each is one round trip. */
export interface DbCounts {
  /** Statements of the abstract-level database. */
  statements: number;
  /** Statements of the ref lock (lock and unlock). */
  lockStatements: number;
  /** Sum of the database statements' latencies, ms (concurrent ones overlap). */
  statementMs: number;
}

/** An empty stats record. */
export function emptyStats(): ServerStats {
  return { requests: 0, uploadPackBytes: 0, receivePackBytes: 0, childPeakRssKb: null, misses: 0 };
}
