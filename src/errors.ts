/**
 * The one error hierarchy of level-git. Every error has a stable `code` (callers match on it),
 * an HTTP `status` the http layer derives its answers from, and optionally a `cause`.
 * docs/errors.md lists every code, when it happens and what to do.
 */

/** Stable error codes; see docs/errors.md. */
export type ErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_OBJECT'
  | 'ERR_FSCK'
  | 'ERR_INVALID_PATH'
  | 'ERR_INVALID_REF_NAME'
  | 'ERR_INVALID_REPO_NAME'
  | 'ERR_NOT_FOUND'
  | 'ERR_REPO_NOT_FOUND'
  | 'ERR_OBJECT_NOT_FOUND'
  | 'ERR_REF_NOT_FOUND'
  | 'ERR_PATH_NOT_FOUND'
  | 'ERR_REPO_EXISTS'
  | 'ERR_REF_CONFLICT'
  | 'ERR_REF_REJECTED'
  | 'ERR_MERGE_CONFLICT'
  | 'ERR_NOT_FAST_FORWARD'
  | 'ERR_CORRUPT_PACK'
  | 'ERR_MISSING_OBJECTS'
  | 'ERR_HASH_COLLISION'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ERR_PROTOCOL'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_CLOSED'
  | 'ERR_STORAGE'
  | 'ERR_FORBIDDEN_TARGET'
  | 'ERR_REMOTE'
  | 'ERR_REMOTE_AUTH'
  | 'ERR_REMOTE_TIMEOUT';

/** HTTP status for each code. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_OBJECT: 400,
  ERR_FSCK: 400,
  ERR_INVALID_PATH: 400,
  ERR_INVALID_REF_NAME: 400,
  ERR_INVALID_REPO_NAME: 400,
  ERR_NOT_FOUND: 404,
  ERR_REPO_NOT_FOUND: 404,
  ERR_OBJECT_NOT_FOUND: 404,
  ERR_REF_NOT_FOUND: 404,
  ERR_PATH_NOT_FOUND: 404,
  ERR_REPO_EXISTS: 409,
  ERR_REF_CONFLICT: 409,
  ERR_REF_REJECTED: 403,
  ERR_MERGE_CONFLICT: 409,
  ERR_NOT_FAST_FORWARD: 409,
  ERR_CORRUPT_PACK: 400,
  ERR_MISSING_OBJECTS: 400,
  ERR_HASH_COLLISION: 400,
  ERR_LIMIT_EXCEEDED: 413,
  ERR_PROTOCOL: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_CLOSED: 503,
  ERR_STORAGE: 503,
  ERR_FORBIDDEN_TARGET: 400,
  ERR_REMOTE: 502,
  ERR_REMOTE_AUTH: 502,
  ERR_REMOTE_TIMEOUT: 504,
};

/** Options every error constructor takes: the underlying failure and the class's structured facts. */
export interface ErrorOptions<D> {
  cause?: unknown;
  details?: D;
}

/** Facts of an InvalidArgumentError: the offending argument by name (`{ ttl: -1 }`), or the ref update refused. */
export interface InvalidArgumentDetails {
  ref?: string;
  newOid?: string;
  type?: string;
  [argument: string]: unknown;
}

/** Facts of an InvalidObjectError: the object and, for a tree entry, its name; for a reference to the wrong type, that reference. */
export interface InvalidObjectDetails {
  oid?: string;
  name?: string;
  /** git's fsck message id, for a tree entry name git refuses too (`hasDotgit`, `hasDotdot`). */
  id?: string;
  /** The referencing object's type. */
  type?: string;
  /** A reference whose target has another type (`actual`), or is missing (`actual: null`). */
  reference?: { oid: string; expected: string; actual: string | null; role: string; name?: string };
}

/** Facts of an FsckError: the object, git's message id of the first error, and every finding. */
export interface FsckDetails {
  oid?: string;
  type?: string;
  /** git's message id (`hasDotgit`, `badTimezone`, `gitmodulesName`...), as `git fsck` prints it. */
  id?: string;
  problems?: { id: string; severity: 'error' | 'warn'; message: string }[];
}

/** Facts of an InvalidPathError: the path as given (not always a string when the caller passed something else), and git's fsck message id when git has one for it. */
export interface InvalidPathDetails {
  path?: unknown;
  id?: string;
}

/** Facts of an InvalidRefNameError. */
export interface InvalidRefNameDetails {
  ref?: string;
}

/** Facts of an InvalidRepoNameError. */
export interface InvalidRepoNameDetails {
  name?: string;
}

/** Facts of a NotFoundError: what was looked for (a repository name, an object, a ref, a path at a ref). */
export interface NotFoundDetails {
  name?: string;
  oid?: string;
  ref?: string;
  path?: string;
  webhook?: string;
}

/** Facts of a RepoExistsError. */
export interface RepoExistsDetails {
  name?: string;
}

/** Facts of a RefConflictError: the ref, what was expected and found, or the name it collides with. */
export interface RefConflictDetails {
  ref?: string;
  expected?: string;
  actual?: string;
  conflictsWith?: string;
}

/** Facts of a RefRejectedError: the ref (or refs) refused. */
export interface RefRejectedDetails {
  ref?: string;
  refs?: string[];
}

/** Facts of a MergeConflictError: each conflicting path and why. */
export interface MergeConflictDetails {
  conflicts?: { path: string; kind: 'content' | 'add-add' | 'modify-delete' | 'rename' | 'mode' | 'file-directory' }[];
}

/** Facts of a NotFastForwardError: the branch and the two tips. */
export interface NotFastForwardDetails {
  ref?: string;
  base?: string;
  head?: string;
}

/** Facts of a CorruptPackError. */
export interface CorruptPackDetails {
  version?: number;
  type?: number;
  missing?: string[];
}

/** Facts of a MissingObjectsError: some of the missing ids. */
export interface MissingObjectsDetails {
  missing?: string[];
}

/** Facts of a HashCollisionError. */
export interface HashCollisionDetails {
  oid?: string;
}

/** Facts of a LimitExceededError: which limit (its option name, or the number), its value, and what was asked. */
export interface LimitExceededDetails {
  limit?: string | number;
  max?: number;
  size?: number;
  count?: number;
  oid?: string;
}

/** Facts of a ProtocolError. */
export interface ProtocolDetails {
  invalidWants?: string[];
}

/** Facts of an UnauthorizedError: why a token was refused (see access/tokens.ts). */
export interface UnauthorizedDetails {
  reason?: string;
}

/** Facts of a ForbiddenError (none so far). */
export type ForbiddenDetails = Record<string, never>;

/** Facts of a StorageError: what the engine was doing when the database failed. */
export interface StorageDetails {
  operation?: string;
  /** 'quota-exceeded': the browser's storage quota for the origin is used up (IndexedDB). */
  reason?: 'quota-exceeded';
}

/** Base class of every error level-git throws on purpose. `D` is the shape of its `details`. */
export class LevelGitError<D extends object = Readonly<Record<string, unknown>>> extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra structured facts (the ref, the path, the limit...); `{}` when there are none. */
  readonly details: D;

  constructor(code: ErrorCode, message: string, options: ErrorOptions<D> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? ({} as D);
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** HTTP status that represents this error. */
  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

/** A caller passed an argument of the wrong shape. */
export class InvalidArgumentError extends LevelGitError<InvalidArgumentDetails> {
  constructor(message: string, options?: ErrorOptions<InvalidArgumentDetails>) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** An object's bytes do not parse, or break a rule git enforces (tree entry names, modes). */
export class InvalidObjectError extends LevelGitError<InvalidObjectDetails> {
  constructor(message: string, options?: ErrorOptions<InvalidObjectDetails>) {
    super('ERR_INVALID_OBJECT', message, options);
  }
}

/**
 * An object breaks a check of `git fsck --strict` / `receive.fsckObjects` (src/object/fsck.ts):
 * the message starts with git's message id (`tree <oid>: hasDotgit: ...`). Nothing was stored.
 */
export class FsckError extends LevelGitError<FsckDetails> {
  constructor(message: string, options?: ErrorOptions<FsckDetails>) {
    super('ERR_FSCK', message, options);
  }
}

/** A file path is unsafe or malformed (`..`, `.git`, absolute, empty segment, NUL). */
export class InvalidPathError extends LevelGitError<InvalidPathDetails> {
  constructor(message: string, options?: ErrorOptions<InvalidPathDetails>) {
    super('ERR_INVALID_PATH', message, options);
  }
}

/** A ref name breaks git's check-ref-format rules. */
export class InvalidRefNameError extends LevelGitError<InvalidRefNameDetails> {
  constructor(message: string, options?: ErrorOptions<InvalidRefNameDetails>) {
    super('ERR_INVALID_REF_NAME', message, options);
  }
}

/** A repository name is not allowed. */
export class InvalidRepoNameError extends LevelGitError<InvalidRepoNameDetails> {
  constructor(message: string, options?: ErrorOptions<InvalidRepoNameDetails>) {
    super('ERR_INVALID_REPO_NAME', message, options);
  }
}

/** Something asked for does not exist. The code says what kind of thing. */
export class NotFoundError extends LevelGitError<NotFoundDetails> {
  constructor(
    code: 'ERR_NOT_FOUND' | 'ERR_REPO_NOT_FOUND' | 'ERR_OBJECT_NOT_FOUND' | 'ERR_REF_NOT_FOUND' | 'ERR_PATH_NOT_FOUND',
    message: string,
    options?: ErrorOptions<NotFoundDetails>,
  ) {
    super(code, message, options);
  }
}

/** A repository of that name already exists. */
export class RepoExistsError extends LevelGitError<RepoExistsDetails> {
  constructor(message: string, options?: ErrorOptions<RepoExistsDetails>) {
    super('ERR_REPO_EXISTS', message, options);
  }
}

/** A compare-and-swap expectation failed: a ref is not at the value the caller expected. */
export class RefConflictError extends LevelGitError<RefConflictDetails> {
  constructor(message: string, options?: ErrorOptions<RefConflictDetails>) {
    super('ERR_REF_CONFLICT', message, options);
  }
}

/** A hook or a policy refused a ref update. The message is what git prints. */
export class RefRejectedError extends LevelGitError<RefRejectedDetails> {
  constructor(message: string, options?: ErrorOptions<RefRejectedDetails>) {
    super('ERR_REF_REJECTED', message, options);
  }
}

/** A merge, revert or cherry-pick met conflicts (`details.conflicts`); nothing was written, no ref moved. */
export class MergeConflictError extends LevelGitError<MergeConflictDetails> {
  constructor(message: string, options?: ErrorOptions<MergeConflictDetails>) {
    super('ERR_MERGE_CONFLICT', message, options);
  }
}

/** A fast-forward merge was asked where the base is not an ancestor of the head. */
export class NotFastForwardError extends LevelGitError<NotFastForwardDetails> {
  constructor(message: string, options?: ErrorOptions<NotFastForwardDetails>) {
    super('ERR_NOT_FAST_FORWARD', message, options);
  }
}

/** A pack is truncated, corrupt or hostile. Nothing from it was stored. */
export class CorruptPackError extends LevelGitError<CorruptPackDetails> {
  constructor(message: string, options?: ErrorOptions<CorruptPackDetails>) {
    super('ERR_CORRUPT_PACK', message, options);
  }
}

/** Objects that a ref update needs are neither in the pack nor in the store. */
export class MissingObjectsError extends LevelGitError<MissingObjectsDetails> {
  constructor(message: string, options?: ErrorOptions<MissingObjectsDetails>) {
    super('ERR_MISSING_OBJECTS', message, options);
  }
}

/** An incoming object has the id of a stored one but different bytes. */
export class HashCollisionError extends LevelGitError<HashCollisionDetails> {
  constructor(message: string, options?: ErrorOptions<HashCollisionDetails>) {
    super('ERR_HASH_COLLISION', message, options);
  }
}

/** A configured limit (body size, object size, delta depth, ref count...) was reached. */
export class LimitExceededError extends LevelGitError<LimitExceededDetails> {
  constructor(message: string, options?: ErrorOptions<LimitExceededDetails>) {
    super('ERR_LIMIT_EXCEEDED', message, options);
  }
}

/** A Git protocol request is malformed or asks for something unsupported. */
export class ProtocolError extends LevelGitError<ProtocolDetails> {
  constructor(message: string, options?: ErrorOptions<ProtocolDetails>) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** Credentials are missing, malformed, tampered or expired. */
export class UnauthorizedError extends LevelGitError<UnauthorizedDetails> {
  constructor(message: string, options?: ErrorOptions<UnauthorizedDetails>) {
    super('ERR_UNAUTHORIZED', message, options);
  }
}

/** Credentials are valid but do not allow this. */
export class ForbiddenError extends LevelGitError<ForbiddenDetails> {
  constructor(message: string, options?: ErrorOptions<ForbiddenDetails>) {
    super('ERR_FORBIDDEN', message, options);
  }
}

/** The engine was closed. */
export class ClosedError extends LevelGitError<Record<string, never>> {
  constructor(message = 'the engine is closed') {
    super('ERR_CLOSED', message);
  }
}

/**
 * The database failed: it could not be opened (locked by another process, corrupt, not a
 * database), or a read or write failed while storing a pack. `cause` has the backend's error.
 */
export class StorageError extends LevelGitError<StorageDetails> {
  constructor(message: string, options?: ErrorOptions<StorageDetails>) {
    super('ERR_STORAGE', message, options);
  }
}

/** Facts of a ForbiddenTargetError: the refused host (never credentials) and why. */
export interface ForbiddenTargetDetails {
  host?: string;
  address?: string;
  reason?: string;
}

/**
 * A remote URL (import, mirror, webhook) names a target the SSRF guard refuses: a scheme other
 * than http(s), or a loopback, private or link-local address (unless `allowPrivateRemotes`).
 */
export class ForbiddenTargetError extends LevelGitError<ForbiddenTargetDetails> {
  constructor(message: string, options?: ErrorOptions<ForbiddenTargetDetails>) {
    super('ERR_FORBIDDEN_TARGET', message, options);
  }
}

/** Facts of a RemoteError: the remote's URL without credentials, and its HTTP status when it answered one. */
export interface RemoteDetails {
  url?: string;
  status?: number;
}

/**
 * Another Git server (or a webhook receiver) failed us: `ERR_REMOTE_AUTH` it refused the
 * credentials (401/403), `ERR_REMOTE_TIMEOUT` it did not answer in time, `ERR_REMOTE` anything
 * else (an error status, a broken answer, a refused connection).
 */
export class RemoteError extends LevelGitError<RemoteDetails> {
  constructor(code: 'ERR_REMOTE' | 'ERR_REMOTE_AUTH' | 'ERR_REMOTE_TIMEOUT', message: string, options?: ErrorOptions<RemoteDetails>) {
    super(code, message, options);
  }
}

/** True when `err` is a level-git error, optionally of one code. */
export function isLevelGitError(err: unknown, code?: ErrorCode): err is LevelGitError {
  return err instanceof LevelGitError && (code === undefined || err.code === code);
}
