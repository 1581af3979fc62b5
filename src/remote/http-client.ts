/**
 * One HTTP exchange with another server, guarded: every hop's URL passes the SSRF guard
 * (guard.ts; resolved addresses are judged at connect time by the platform's `outbound`), GET
 * redirects are followed only to allowed targets (credentials only within the same origin),
 * the wait for an answer and every silence while its body streams are bounded, and failures
 * are typed (`ERR_REMOTE_AUTH` for 401/403, `ERR_REMOTE_TIMEOUT`, `ERR_REMOTE`). Messages name
 * the URL without credentials; credentials travel only in the Authorization header.
 */
import { ForbiddenTargetError, LevelGitError, RemoteError } from '../errors.js';
import { platform } from '../platform/index.js';
import { utf8 } from '../platform/bytes.js';
import type { AddressCheck, OutboundFetch, OutboundRequest, OutboundResponse } from '../platform/types.js';
import { AGENT } from '../protocol/capabilities.js';
import { admit, checkHost } from './guard.js';

/** Limits and policy of outbound requests. */
export interface RemoteHttpOptions {
  /** Lets requests reach loopback, private and link-local addresses (the engine's `allowPrivateRemotes`). */
  allowPrivate?: boolean;
  /** Longest wait for a response's headers, ms. Default 30 s. */
  timeoutMs?: number;
  /** Longest silence while a body streams, ms. Default 60 s. */
  idleTimeoutMs?: number;
  /** Most redirects a GET follows. Default 5. */
  maxRedirects?: number;
  /** Sends requests (tests, other runtimes); default the platform's `outbound`, else global `fetch`. */
  outbound?: OutboundFetch;
}

/** Credentials for HTTP Basic authentication. */
export interface Credentials {
  username?: string;
  password?: string;
}

/** A response whose URL is the last hop's. */
export interface RemoteResponse extends OutboundResponse {
  url: URL;
}

/** The URL as messages show it: no credentials, no query. */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Sends a request (see the module comment); a status of 400 or more throws unless `anyStatus`. */
export async function remoteRequest(
  start: URL,
  request: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: Uint8Array },
  options: RemoteHttpOptions & { credentials?: Credentials; anyStatus?: boolean },
): Promise<RemoteResponse> {
  const allow = options.allowPrivate === true;
  const send = options.outbound ?? platform().outbound ?? fetchOutbound;
  const byName = send === fetchOutbound; // nothing resolves names there: `localhost` is refused by name
  const check: AddressCheck = (host, addresses) => admit(host, addresses, allow);
  let url = new URL(start.href);
  for (let hop = 0; ; hop++) {
    checkHost(url.hostname, allow, byName);
    const headers: Record<string, string> = { 'user-agent': AGENT, ...request.headers };
    const sameOrigin = url.origin === start.origin;
    const cred = options.credentials;
    if (sameOrigin && cred && (cred.username || cred.password)) {
      headers.authorization = `Basic ${btoa(String.fromCharCode(...utf8(`${cred.username ?? ''}:${cred.password ?? ''}`)))}`;
    }
    const abort = new AbortController();
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer = setTimeout(() => abort.abort(), timeoutMs);
    let res: OutboundResponse;
    try {
      res = await send(url, { method: request.method, headers, body: request.body, signal: abort.signal }, check);
    } catch (err) {
      clearTimeout(timer);
      throw failure(err, url, abort.signal.aborted, timeoutMs);
    }
    clearTimeout(timer);
    const location = res.header('location');
    if (request.method === 'GET' && [301, 302, 303, 307, 308].includes(res.status) && location !== null) {
      void drain(res.body);
      if (hop >= (options.maxRedirects ?? 5))
        throw new RemoteError('ERR_REMOTE', `too many redirects from ${shownUrl(start)}`, { details: { url: shownUrl(start) } });
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ForbiddenTargetError(`${shownUrl(url)} redirects to a ${next.protocol.replace(/:$/, '')} URL`, { details: { reason: 'scheme' } });
      }
      next.username = '';
      next.password = '';
      url = next;
      continue;
    }
    const idleMs = options.idleTimeoutMs ?? 60_000;
    const source = res.body;
    const body = (async function* () {
      const it = source[Symbol.asyncIterator]();
      try {
        for (;;) {
          timer = setTimeout(() => abort.abort(), idleMs);
          let n: IteratorResult<Uint8Array>;
          try {
            n = await it.next();
          } catch (err) {
            throw failure(err, url, abort.signal.aborted, idleMs);
          } finally {
            clearTimeout(timer);
          }
          if (n.done) return;
          yield n.value;
        }
      } finally {
        clearTimeout(timer);
        if (!abort.signal.aborted) abort.abort(); // the caller stopped early: close the connection
      }
    })();
    const answer: RemoteResponse = { status: res.status, header: res.header, body, url };
    if (res.status >= 400 && !options.anyStatus) {
      await drain(body);
      throw statusError(res.status, url);
    }
    return answer;
  }
}

/** The typed error of an error status. */
export function statusError(status: number, url: URL): RemoteError {
  const details = { url: shownUrl(url), status };
  if (status === 401)
    return new RemoteError('ERR_REMOTE_AUTH', `${shownUrl(url)}: authentication required or refused (HTTP 401); check username and password`, { details });
  if (status === 403) return new RemoteError('ERR_REMOTE_AUTH', `${shownUrl(url)}: access denied (HTTP 403)`, { details });
  return new RemoteError('ERR_REMOTE', `${shownUrl(url)} answered HTTP ${status}`, { details });
}

function failure(err: unknown, url: URL, aborted: boolean, ms: number): Error {
  if (err instanceof LevelGitError) return err;
  if (aborted) return new RemoteError('ERR_REMOTE_TIMEOUT', `${shownUrl(url)} did not answer within ${ms} ms`, { details: { url: shownUrl(url) }, cause: err });
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const why = e.code ?? e.cause?.code ?? e.message ?? String(err);
  return new RemoteError('ERR_REMOTE', `cannot reach ${shownUrl(url)}: ${why}`, { details: { url: shownUrl(url) }, cause: err });
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const _ of body);
  } catch {
    // Only the status matters now.
  }
}

/**
 * Outbound requests through the global `fetch` where the platform has none (browsers, edge
 * runtimes): redirects are not followed by fetch, but host names cannot be resolved here, so
 * only literal addresses and `localhost` are judged (guard.ts).
 */
const fetchOutbound: OutboundFetch = async (url: URL, request: OutboundRequest) => {
  const res = await fetch(url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body as BodyInit }),
    redirect: 'manual',
    signal: request.signal,
  });
  return {
    status: res.status,
    header: (name) => res.headers.get(name),
    body: (async function* () {
      if (res.body === null) return;
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    })(),
  };
};
