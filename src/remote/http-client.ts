/**
 * One HTTP exchange with another server, guarded: every hop's URL passes the SSRF guard
 * (guard.ts; resolved addresses are judged at connect time by the platform's `outbound`), GET
 * redirects are followed only to allowed targets (credentials only within the same origin),
 * the wait for an answer and every silence while its body streams are bounded, and failures
 * are typed (`ERR_REMOTE_AUTH` for 401/403, `ERR_REMOTE_TIMEOUT`, `ERR_REMOTE`). Messages name
 * the URL without credentials; credentials travel only in the Authorization header.
 */
import { ForbiddenTargetError, LevelGitError, LimitExceededError, RemoteError } from '../errors.js';
import { platform } from '../platform/index.js';
import { concat, utf8 } from '../platform/bytes.js';
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
  request: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: Uint8Array | AsyncIterable<Uint8Array> },
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
    const idleMs = options.idleTimeoutMs ?? 60_000;
    let sendTimer = setTimeout(() => abort.abort(), timeoutMs);
    let waited = timeoutMs;
    let answered = false; // from the answer on, the response's own idle timer bounds the exchange
    const rearm = (ms: number) => {
      if (answered) return;
      clearTimeout(sendTimer);
      waited = ms;
      if (ms > 0) sendTimer = setTimeout(() => abort.abort(), ms);
    };
    const sent = request.body;
    const outBody = sent === undefined || sent instanceof Uint8Array ? sent : timedBody(sent, rearm, timeoutMs, idleMs);
    let res: OutboundResponse;
    try {
      res = await send(url, { method: request.method, headers, body: outBody, signal: abort.signal }, check);
    } catch (err) {
      clearTimeout(sendTimer);
      throw failure(err, url, abort.signal.aborted, waited);
    }
    answered = true;
    clearTimeout(sendTimer);
    let timer: ReturnType<typeof setTimeout> | undefined;
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

/**
 * A streamed request body under the timeouts: while the remote takes a chunk, its silence is
 * bounded by `idleMs`; while the next chunk is produced here (a pack being planned), no timer
 * runs; after the last chunk, the answer must come within `answerMs`.
 */
async function* timedBody(body: AsyncIterable<Uint8Array>, rearm: (ms: number) => void, answerMs: number, idleMs: number): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      rearm(0);
      const n = await it.next();
      if (n.done) break;
      rearm(idleMs);
      yield n.value;
    }
  } finally {
    rearm(answerMs);
    await it.return?.();
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const _ of body);
  } catch {
    // Only the status matters now.
  }
}

/** Most bytes of a streamed body buffered where `fetch` cannot stream a request body. */
export const MAX_BUFFERED_BODY_BYTES = 2 * 1024 * 1024 * 1024 - 1;

let streams: boolean | undefined;

/**
 * Whether this runtime's `fetch` streams a request body (`duplex: 'half'`: Node, Deno, Chromium
 * over HTTP/2): a runtime that does not know the option never reads it, and one that cannot
 * stream turns the stream into a string (a text Content-Type).
 */
export function fetchStreamsBodies(): boolean {
  if (streams !== undefined) return streams;
  try {
    let asked = false;
    const init = {
      method: 'POST',
      body: new ReadableStream(),
      get duplex() {
        asked = true;
        return 'half';
      },
    };
    const typed = new Request('http://localhost/', init as RequestInit).headers.has('content-type');
    streams = asked && !typed;
  } catch {
    streams = false;
  }
  return streams;
}

/**
 * The body as `fetch` takes it: a stream where the runtime can send one (pulled as the
 * connection takes it), else buffered whole, up to MAX_BUFFERED_BODY_BYTES.
 */
async function fetchBody(body: OutboundRequest['body']): Promise<{ body?: BodyInit; duplex?: 'half' }> {
  if (body === undefined) return {};
  if (body instanceof Uint8Array) return { body: body as BodyInit };
  if (fetchStreamsBodies()) {
    const it = body[Symbol.asyncIterator]();
    const stream = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const n = await it.next();
          if (n.done) controller.close();
          else controller.enqueue(n.value);
        },
        async cancel() {
          await it.return?.();
        },
      },
      { highWaterMark: 0 },
    );
    return { body: stream as BodyInit, duplex: 'half' };
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BUFFERED_BODY_BYTES)
      throw new LimitExceededError('this runtime cannot stream a request body, and this one is too large to buffer', { details: { limit: 'requestBody' } });
    parts.push(chunk);
  }
  return { body: concat(parts, size) as BodyInit };
}

/**
 * Outbound requests through the global `fetch` where the platform has none (browsers, edge
 * runtimes): redirects are not followed by fetch, but host names cannot be resolved here, so
 * only literal addresses and `localhost` are judged (guard.ts).
 */
export const fetchOutbound: OutboundFetch = async (url: URL, request: OutboundRequest) => {
  const res = await fetch(url, {
    method: request.method,
    headers: request.headers,
    ...(await fetchBody(request.body)),
    redirect: 'manual',
    signal: request.signal,
  } as RequestInit);
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
