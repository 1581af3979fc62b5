/**
 * The one error hierarchy of level-git. Every error has a stable `code` (callers match on it),
 * an HTTP `status` the http layer derives its answers from, and optionally a `cause`.
 * docs/errors.md lists every code, when it happens and what to do.
 */

/** Stable error codes; see docs/errors.md. */
export type ErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_OBJECT'
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
  | 'ERR_CORRUPT_PACK'
  | 'ERR_MISSING_OBJECTS'
  | 'ERR_HASH_COLLISION'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ERR_PROTOCOL'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_CLOSED'
  | 'ERR_STORAGE';

/** HTTP status for each code. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_OBJECT: 400,
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
  ERR_CORRUPT_PACK: 400,
  ERR_MISSING_OBJECTS: 400,
  ERR_HASH_COLLISION: 400,
  ERR_LIMIT_EXCEEDED: 413,
  ERR_PROTOCOL: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_CLOSED: 503,
  ERR_STORAGE: 503,
};

/** Base class of every error level-git throws on purpose. */
export class LevelGitError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra structured facts (the ref, the path, the limit...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
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
export class InvalidArgumentError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** An object's bytes do not parse, or break a rule git enforces (tree entry names, modes). */
export class InvalidObjectError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_INVALID_OBJECT', message, options);
  }
}

/** A file path is unsafe or malformed (`..`, `.git`, absolute, empty segment, NUL). */
export class InvalidPathError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_INVALID_PATH', message, options);
  }
}

/** A ref name breaks git's check-ref-format rules. */
export class InvalidRefNameError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_INVALID_REF_NAME', message, options);
  }
}

/** A repository name is not allowed. */
export class InvalidRepoNameError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_INVALID_REPO_NAME', message, options);
  }
}

/** Something asked for does not exist. The code says what kind of thing. */
export class NotFoundError extends LevelGitError {
  constructor(
    code: 'ERR_NOT_FOUND' | 'ERR_REPO_NOT_FOUND' | 'ERR_OBJECT_NOT_FOUND' | 'ERR_REF_NOT_FOUND' | 'ERR_PATH_NOT_FOUND',
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
  }
}

/** A repository of that name already exists. */
export class RepoExistsError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_REPO_EXISTS', message, options);
  }
}

/** A compare-and-swap expectation failed: a ref is not at the value the caller expected. */
export class RefConflictError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_REF_CONFLICT', message, options);
  }
}

/** A hook or a policy refused a ref update. The message is what git prints. */
export class RefRejectedError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_REF_REJECTED', message, options);
  }
}

/** A pack is truncated, corrupt or hostile. Nothing from it was stored. */
export class CorruptPackError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_CORRUPT_PACK', message, options);
  }
}

/** Objects that a ref update needs are neither in the pack nor in the store. */
export class MissingObjectsError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_MISSING_OBJECTS', message, options);
  }
}

/** An incoming object has the id of a stored one but different bytes. */
export class HashCollisionError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_HASH_COLLISION', message, options);
  }
}

/** A configured limit (body size, object size, delta depth, ref count...) was reached. */
export class LimitExceededError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_LIMIT_EXCEEDED', message, options);
  }
}

/** A Git protocol request is malformed or asks for something unsupported. */
export class ProtocolError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** Credentials are missing, malformed, tampered or expired. */
export class UnauthorizedError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_UNAUTHORIZED', message, options);
  }
}

/** Credentials are valid but do not allow this. */
export class ForbiddenError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_FORBIDDEN', message, options);
  }
}

/** The engine was closed. */
export class ClosedError extends LevelGitError {
  constructor(message = 'the engine is closed') {
    super('ERR_CLOSED', message);
  }
}

/** The database could not be opened (locked by another process, corrupt, not a database). */
export class StorageError extends LevelGitError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ERR_STORAGE', message, options);
  }
}

/** True when `err` is a level-git error, optionally of one code. */
export function isLevelGitError(err: unknown, code?: ErrorCode): err is LevelGitError {
  return err instanceof LevelGitError && (code === undefined || err.code === code);
}
