/**
 * level-git's public surface: what an application calls — the engine and its repositories, the
 * HTTP handlers (Git smart HTTP and the JSON API, each for Node and for fetch), tokens, and
 * the typed errors, the platform choice — with the types of their arguments and results.
 * Nothing else is public; `createServer` (which imports `node:http`) comes from
 * `level-git/server`. Browser bundles take this file as the package root; Node takes
 * `node.ts`, which installs Node's native platform first and enables the optional services
 * that a page enables itself (`enableReview`, `enableArchives`, `enableRemotes`; docs/browser.md).
 */
export { openEngine, type Engine, type EngineOptions, type EngineSweepOptions, type EngineSweepResult } from './engine.js';
export type { FsckOptions, FsckLevel, FsckId } from './object/fsck.js';
export type {
  Repository,
  RepoRefs,
  RepoInfo,
  SweepResult,
  CommitOptions,
  CommitResult,
  PersonInput,
  ListedEntry,
  LogEntry,
  RefUpdateEvent,
  RefUpdateSource,
  PackObjectsOptions,
  ReadOptions,
  DiffFile,
  DiffHunk,
  DiffOptions,
  DiffResult,
  CompareResult,
  ConflictKind,
  MergeCheck,
  MergeConflict,
  MergeOptions,
  MergeResult,
  RevertOptions,
} from './repo/repository.js';
export type { FileChange } from './repo/build-tree.js';
export type { ForkOptions, RepoPage, RepoPageOptions } from './engine.js';
export type { Archive, ArchiveFormat, ArchiveOptions, HistoryOptions, HistoryPage } from './repo/repository.js';
export type { IngestOptions, IngestResult } from './repo/ingest.js';
export type { RefUpdate, AppliedUpdate, RefValue, RefSpace } from './refs/ref-store.js';
export type { Space, View } from './refs/space.js';
export { InProcessLock, type RefLock } from './refs/lock.js';
export { WebLocksLock, type LockManagerLike } from './refs/web-locks.js';
export { ZERO_OID, type Oid, type ObjectType } from './object/oid.js';
export type { Identity } from './object/commit.js';
export type { GitBackend, ObjectFilter, RefUpdateInfo } from './protocol/backend.js';
export {
  LevelGitError,
  InvalidArgumentError,
  InvalidObjectError,
  FsckError,
  InvalidPathError,
  InvalidRefNameError,
  InvalidRepoNameError,
  NotFoundError,
  RepoExistsError,
  RefConflictError,
  RefRejectedError,
  MergeConflictError,
  NotFastForwardError,
  CorruptPackError,
  MissingObjectsError,
  HashCollisionError,
  LimitExceededError,
  ProtocolError,
  UnauthorizedError,
  ForbiddenError,
  ClosedError,
  StorageError,
  ForbiddenTargetError,
  RemoteError,
  isLevelGitError,
  type ErrorCode,
} from './errors.js';
export * from './access/index.js';
export {
  createTokenAuthorizer,
  type AccessDecision,
  type Authorize,
  type AuthorizeContext,
  type GitService,
  type TokenAuthorizerOptions,
} from './http/authorize.js';
export type { GitHttpOptions, GitHttpLimits, GitHttpEngine } from './http/git-http.js';
export { createGitNodeHandler, createApiNodeHandler, createNodeHandler, type NodeHandler } from './http/node-handler.js';
export {
  createGitFetchHandler,
  createApiFetchHandler,
  createFetchHandler,
  createApiHandler,
  type ApiHandler,
  type FetchHandler,
  type FetchHandlerOptions,
} from './http/fetch-handler.js';
export type { ApiOptions, ApiEngine } from './http/api/options.js';
export { createIsomorphicTransport, type IsomorphicHttpClient, type IsomorphicGitRequest, type IsomorphicGitResponse } from './http/isomorphic-transport.js';
export { setPlatform, platform as getPlatform, type Platform, type PlatformChoice, type Sha1Hasher, type InflatePrefixResult } from './platform/index.js';
export type { FetchFromOptions, FetchFromResult, PushToOptions, PushToResult, PushRefStatus, RemoteCredentials } from './repo/repository.js';
export type { WebhookEvent, WebhookInfo, DeliveryInfo, CreateWebhookOptions, Webhooks } from './webhooks/store.js';
export type { WebhookDeliveryOptions } from './webhooks/dispatcher.js';
export { enableRemotes } from './webhooks/enable.js';
export { enableReview, enableArchives } from './repo/enable.js';
export type { FetchProgress } from './repo/remotes.js';
