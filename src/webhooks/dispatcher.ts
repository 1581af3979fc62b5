/**
 * The webhook delivery loop: reads the outbox entries that are due, claims each (moves it to
 * `now + lease` in one batch, so a crash mid-delivery leaves it due again after the lease and
 * another process polling meanwhile skips it), POSTs the signed body through the guarded HTTP
 * client, then in one batch removes it and logs the outcome, or re-queues it with exponential
 * backoff after a non-2xx answer, a timeout or a refused connection, up to `maxAttempts`.
 * Runs on timers off every request path: a slow or dead receiver delays only its own delivery.
 * At least once: a receiver may see a delivery id twice (dedupe on `X-LevelGit-Delivery`).
 */
import { isLevelGitError } from '../errors.js';
import { toHex, utf8 } from '../platform/bytes.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { type RemoteHttpOptions, remoteRequest } from '../remote/http-client.js';
import { type DeliveryInfo, type OutboxEntry, dueRange, logOps, outboxKey } from './store.js';

/** Options of webhook delivery (`openEngine({ webhooks })`). */
export interface WebhookDeliveryOptions {
  /** Run the delivery loop in this engine. Default true; false leaves the outbox to another process. */
  deliver?: boolean;
  /** How often the outbox is read when nothing woke the loop, ms. Default 1000. */
  pollMs?: number;
  /** Longest wait for a receiver's answer, ms. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay, ms; each later one doubles, up to an hour. Default 1000. */
  backoffMs?: number;
  /** Attempts before a delivery is given up (logged as failed). Default 10. */
  maxAttempts?: number;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
}

/** HMAC-SHA256 of `body` under `secret`, as the signature header carries it (`sha256=<hex>`). */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(secret) as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `sha256=${toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(body) as BufferSource)))}`;
}

/** The background loop described above. */
export class WebhookDispatcher {
  readonly #kv: Kv;
  readonly #http: RemoteHttpOptions;
  readonly #o: Required<Omit<WebhookDeliveryOptions, 'deliver'>>;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #again = false;
  #stopped = false;

  /** Starts polling at once (unless `deliver` is false). */
  constructor(kv: Kv, http: RemoteHttpOptions, options: WebhookDeliveryOptions = {}) {
    this.#kv = kv;
    this.#http = http;
    this.#o = {
      pollMs: options.pollMs ?? 1000,
      timeoutMs: options.timeoutMs ?? 10_000,
      backoffMs: options.backoffMs ?? 1000,
      maxAttempts: options.maxAttempts ?? 10,
      concurrency: options.concurrency ?? 8,
    };
    this.#stopped = options.deliver === false;
    this.#schedule(0);
  }

  /** Reads the outbox now (after a batch wrote events). */
  kick(): void {
    if (this.#stopped) return;
    this.#schedule(0);
  }

  /** Stops the loop. Deliveries in flight are not waited for: one that cannot record its outcome is due again after its lease. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    return Promise.resolve();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        await this.#round();
      } while (this.#again && !this.#stopped);
    } catch {
      // A database error (closing engine): the next poll tries again.
    } finally {
      this.#running = false;
      this.#schedule(this.#o.pollMs);
    }
  }

  /** Claims the due entries that fit in the free slots and starts their deliveries. */
  async #round(): Promise<void> {
    const free = this.#o.concurrency - this.#inFlight.size;
    if (free <= 0 || this.#stopped) return;
    const now = Date.now();
    const due: [Uint8Array, OutboxEntry][] = [];
    for await (const [k, v] of this.#kv.entries({ ...dueRange(now), limit: free })) {
      due.push([k, JSON.parse(new TextDecoder().decode(v)) as OutboxEntry]);
      if (due.length >= free) break;
    }
    if (due.length === 0) return;
    const lease = now + this.#o.timeoutMs + 2000;
    const claimed = due.map(([k, e]) => ({ old: k, key: outboxKey(lease, e.id), entry: e }));
    await this.#kv.batch(
      claimed.flatMap((c): KvOp[] => [
        { type: 'del', key: c.old },
        { type: 'put', key: c.key, value: utf8(JSON.stringify(c.entry)) },
      ]),
    );
    for (const c of claimed) {
      const p: Promise<void> = this.#deliver(c.key, c.entry)
        .catch(() => undefined)
        .finally(() => {
          this.#inFlight.delete(p);
          this.kick(); // a slot is free
        });
      this.#inFlight.add(p);
    }
    if (due.length >= free) this.#again = false; // the next free slot wakes the loop
  }

  async #deliver(key: Uint8Array, entry: OutboxEntry): Promise<void> {
    const attempt = entry.attempts + 1;
    let status = 0;
    let error: string | undefined;
    let retry = true;
    try {
      const res = await remoteRequest(
        new URL(entry.url),
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-levelgit-event': entry.event,
            'x-levelgit-delivery': entry.id,
            'x-levelgit-signature-256': await signBody(entry.secret, entry.body),
          },
          body: utf8(entry.body),
        },
        { ...this.#http, timeoutMs: this.#o.timeoutMs, idleTimeoutMs: this.#o.timeoutMs, maxRedirects: 0, anyStatus: true },
      );
      status = res.status;
      let read = 0;
      for await (const chunk of res.body) if ((read += chunk.length) > 65536) break; // the answer is not used
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      if (isLevelGitError(err, 'ERR_FORBIDDEN_TARGET')) retry = false; // it will not become allowed
    }
    const ok = error === undefined && status >= 200 && status < 300;
    if (!ok && error === undefined) error = `HTTP ${status}`;
    const retryAt = !ok && retry && attempt < this.#o.maxAttempts ? Date.now() + Math.min(this.#o.backoffMs * 2 ** (attempt - 1), 3600_000) : undefined;
    const info: DeliveryInfo = { id: entry.id, event: entry.event, attempt, status, ok, at: new Date().toISOString() };
    if (error !== undefined) info.error = error.slice(0, 500);
    if (retryAt !== undefined) info.retryAt = new Date(retryAt).toISOString();
    const ops: KvOp[] = [{ type: 'del', key }];
    if (retryAt !== undefined) ops.push({ type: 'put', key: outboxKey(retryAt, entry.id), value: utf8(JSON.stringify({ ...entry, attempts: attempt })) });
    await this.#kv.batch([...ops, ...(await logOps(this.#kv, entry, info))]);
    if (retryAt !== undefined) this.#schedule(Math.min(this.#o.pollMs, Math.max(0, retryAt - Date.now())));
  }
}
