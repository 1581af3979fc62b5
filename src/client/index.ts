/**
 * `level-git/client`: the SDK over the JSON API (fetch only; browsers, Deno, Bun, edge runtimes,
 * Node). See docs/api.md, "Client SDK".
 */
export { LevelGitClient, type ImportSource } from './client.js';
export { RemoteRepo, type DiffQuery, type RemoteUrlOptions } from './remote-repo.js';
export { LevelGitClientError, Transport, type ClientOptions, type ClientErrorDetails, type CallOptions, type Query } from './transport.js';
export type * from './types.js';
