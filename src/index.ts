/**
 * level-git's public surface: the engine, the repository API, the HTTP handlers and the
 * typed errors. Nothing else is public.
 */
export { openEngine, Engine, checkRepoName, type EngineOptions } from './engine.js';
export {
  Repository,
  RepoRefs,
  type RepoInfo,
  type SweepResult,
  type CommitOptions,
  type CommitResult,
  type PersonInput,
  type ListedEntry,
  type LogEntry,
  type RefUpdateEvent,
  type RefUpdateSource,
  type PackObjectsOptions,
} from './repo/repository.js';
export type { FileChange } from './repo/build-tree.js';
export type { IngestOptions, IngestResult } from './repo/ingest.js';
export type { RefUpdate, AppliedUpdate, RefValue, RefSpace } from './refs/ref-store.js';
export { InProcessLock, type RefLock } from './refs/lock.js';
export { ZERO_OID, type Oid, type ObjectType } from './object/oid.js';
export type { Identity } from './object/commit.js';
export type { GitBackend, ObjectFilter, RefUpdateInfo } from './protocol/backend.js';
export * from './errors.js';
export * from './access/index.js';
export { createNodeHandler } from './http/node-handler.js';
export { createFetchHandler, type FetchHandlerOptions } from './http/fetch-handler.js';
export { createIsomorphicTransport, type IsomorphicHttpClient } from './http/isomorphic-transport.js';
export { handleGitRequest, parseGitPath, DEFAULT_HTTP_LIMITS, type GitHttpOptions, type GitHttpLimits, type GitService } from './http/git-http.js';
export { createApiHandler, createApiNodeHandler, type ApiOptions } from './http/api.js';
