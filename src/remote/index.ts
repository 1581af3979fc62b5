/** The engine's remote client (`RemoteService` of repo/remotes.ts): fetchFrom and pushTo with one policy. */
import type { RemoteService } from '../repo/remotes.js';
import type { RemoteHttpOptions } from './http-client.js';
import { fetchFrom, lsRemote } from './fetch-from.js';
import { pushTo } from './push-to.js';

export type { RemoteHttpOptions } from './http-client.js';

/** A RemoteService whose requests follow `http` (the SSRF guard's switch, timeouts). */
export function createRemoteService(http: RemoteHttpOptions): RemoteService {
  return {
    fetchFrom: (repo, url, options) => fetchFrom(repo, url, options ?? {}, http),
    pushTo: (repo, url, options) => pushTo(repo, url, options ?? {}, http),
    lsRemote: (url, options) => lsRemote(url, options ?? {}, http),
  };
}
