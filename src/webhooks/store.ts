/**
 * Webhooks as stored: a repository's hooks (`'H' id 0x00 hookId`, JSON with the secret), each
 * hook's recent deliveries (`'H' id 0x01 hookId 0x00 at(8) delivery`, the last MAX_LOG), and
 * the engine-wide outbox of deliveries due (`'X' due(8) delivery`). `eventOps` turns a ref move
 * (or a repository event) into outbox entries, as writes for the same batch as the move itself:
 * the event exists exactly when the move happened. Each entry carries everything its delivery
 * needs (URL, secret, the body to sign), so it outlives its hook and its repository.
 * Engine-wide hooks (the admin's, for lifecycle events of every repository) are stored the same
 * way under id 0 (ENGINE_HOOKS), which no repository has.
 */
import { InvalidArgumentError, LimitExceededError, NotFoundError } from '../errors.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';
import type { AppliedUpdate } from '../refs/ref-store.js';
import type { RefUpdateSource } from '../repo/context.js';
import { TAG, prefixRange, repoKey, type KeyRange } from '../storage/keys.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { parseRemoteUrl } from '../remote/guard.js';

/** The events a webhook may subscribe to. */
export const WEBHOOK_EVENTS = ['push', 'ref.updated', 'repo.created', 'repo.deleted', 'branch.promoted', 'ref.expired'] as const;

/** One of WEBHOOK_EVENTS. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The events an engine-wide hook may subscribe to: the lifecycle of every repository. */
export const ENGINE_WIDE_EVENTS: readonly WebhookEvent[] = ['repo.created', 'repo.deleted'];

/** The id engine-wide hooks are stored under (repository ids start at 1). */
export const ENGINE_HOOKS = 0;

/** A webhook as listed (never with its secret). */
export interface WebhookInfo {
  id: string;
  url: string;
  events: WebhookEvent[];
  createdAt: string;
}

/** A webhook as stored. */
interface WebhookRecord extends WebhookInfo {
  secret: string;
}

/** One attempt's outcome, as `deliveries` lists it. */
export interface DeliveryInfo {
  /** The delivery id (the `X-LevelGit-Delivery` header; the same on every attempt). */
  id: string;
  event: WebhookEvent;
  /** 1 for the first attempt. */
  attempt: number;
  /** The receiver's HTTP status; 0 when there was none (timeout, refused connection). */
  status: number;
  ok: boolean;
  error?: string;
  /** When the attempt ended (ISO 8601). */
  at: string;
  /** When the next attempt is due, when one is. */
  retryAt?: string;
}

/** An outbox entry: a delivery due at its key's time. */
export interface OutboxEntry {
  id: string;
  hookId: string;
  repoId: number;
  url: string;
  secret: string;
  event: WebhookEvent;
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

/** Most webhooks per repository. */
export const MAX_HOOKS = 20;
/** Deliveries kept per webhook. */
export const MAX_LOG = 50;

const enc = (v: unknown) => utf8(JSON.stringify(v));
const dec = <T>(b: Uint8Array) => JSON.parse(fromUtf8(b)) as T;

function hooksRange(repoId: number): KeyRange {
  return prefixRange(repoKey(TAG.webhook, repoId, new Uint8Array([0])));
}

function hookKey(repoId: number, hookId: string): Uint8Array {
  return repoKey(TAG.webhook, repoId, utf8(`\0${hookId}`));
}

function logRange(repoId: number, hookId: string): KeyRange {
  return prefixRange(repoKey(TAG.webhook, repoId, utf8(`\x01${hookId}\0`)));
}

function time8(ms: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, Math.max(0, ms)); // positive float64 sorts as its big-endian bytes
  return b;
}

function logKey(repoId: number, hookId: string, at: number, id: string): Uint8Array {
  return repoKey(TAG.webhook, repoId, new Uint8Array([...utf8(`\x01${hookId}\0`), ...time8(at), ...utf8(id)]));
}

/** Key of an outbox entry due at `due` (ms since the epoch). */
export function outboxKey(due: number, id: string): Uint8Array {
  return new Uint8Array([TAG.outbox, ...time8(due), ...utf8(id)]);
}

/** Outbox entries due by `now`. */
export function dueRange(now: number): KeyRange {
  return { gte: new Uint8Array([TAG.outbox]), lt: new Uint8Array([TAG.outbox, ...time8(now + 1)]) };
}

/** The due time an outbox key holds. */
export function dueOf(key: Uint8Array): number {
  return new DataView(key.buffer, key.byteOffset + 1, 8).getFloat64(0);
}

/** The repository's hooks, as stored. */
async function hooksOf(kv: Kv, repoId: number): Promise<WebhookRecord[]> {
  const out: WebhookRecord[] = [];
  for await (const [, v] of kv.entries(hooksRange(repoId))) out.push(dec<WebhookRecord>(v));
  return out;
}

/** The event names a ref move raises, by its source. */
function refEvents(source: RefUpdateSource): WebhookEvent[] {
  const named: Partial<Record<RefUpdateSource, WebhookEvent>> = { push: 'push', promote: 'branch.promoted', expire: 'ref.expired' };
  return named[source] === undefined ? ['ref.updated'] : ['ref.updated', named[source]!];
}

/** Outbox writes for one event's payload to every hook of the repository that subscribed. */
async function enqueueOps(kv: Kv, repoId: number, events: readonly WebhookEvent[], payload: (event: WebhookEvent) => object): Promise<KvOp[]> {
  const hooks = await hooksOf(kv, repoId);
  const ops: KvOp[] = [];
  const now = Date.now();
  for (const hook of hooks) {
    for (const event of events) {
      if (!hook.events.includes(event)) continue;
      const id = crypto.randomUUID();
      const body = JSON.stringify({ event, delivery: id, hook: hook.id, ...payload(event) });
      const entry: OutboxEntry = { id, hookId: hook.id, repoId, url: hook.url, secret: hook.secret, event, body, attempts: 0 };
      ops.push({ type: 'put', key: outboxKey(now, id), value: enc(entry) });
    }
  }
  return ops;
}

/** Outbox writes for a ref move (see the module comment); none when the repository has no hooks. */
export function refEventOps(kv: Kv, repoId: number, repo: string, source: RefUpdateSource, updates: readonly AppliedUpdate[]): Promise<KvOp[]> {
  const list = updates.map((u) => ({ ref: u.ref, space: u.space, old: u.oldOid, new: u.newOid }));
  return enqueueOps(kv, repoId, refEvents(source), () => ({ repository: repo, source, updates: list, at: new Date().toISOString() }));
}

/**
 * Outbox writes for a repository event (`repo.deleted`, `repo.created`) about repository `repo`,
 * to the hooks stored under `hooksOf` (its own, a fork's source's, or ENGINE_HOOKS).
 */
export function repoEventOps(kv: Kv, hooksOf: number, repo: string, event: 'repo.created' | 'repo.deleted', extra: object = {}): Promise<KvOp[]> {
  return enqueueOps(kv, hooksOf, [event], () => ({ repository: repo, ...extra, at: new Date().toISOString() }));
}

/** Writes of one attempt's outcome to the hook's delivery log, dropping the oldest past MAX_LOG. */
export async function logOps(kv: Kv, entry: OutboxEntry, info: DeliveryInfo): Promise<KvOp[]> {
  const ops: KvOp[] = [{ type: 'put', key: logKey(entry.repoId, entry.hookId, Date.parse(info.at), `${info.id}.${info.attempt}`), value: enc(info) }];
  const keys: Uint8Array[] = [];
  for await (const k of kv.keys(logRange(entry.repoId, entry.hookId))) keys.push(k);
  for (const k of keys.slice(0, Math.max(0, keys.length + 1 - MAX_LOG))) ops.push({ type: 'del', key: k });
  return ops;
}

function checkEvents(events: unknown, engineWide: boolean): WebhookEvent[] {
  const allowed: readonly WebhookEvent[] = engineWide ? ENGINE_WIDE_EVENTS : WEBHOOK_EVENTS;
  if (!Array.isArray(events) || events.length === 0) throw new InvalidArgumentError(`events must be a non-empty array of ${allowed.join(', ')}`);
  for (const e of events) {
    if (!(WEBHOOK_EVENTS as readonly unknown[]).includes(e))
      throw new InvalidArgumentError(`unknown event ${JSON.stringify(String(e).slice(0, 100))}`, { details: { event: e } });
    if (!allowed.includes(e as WebhookEvent))
      throw new InvalidArgumentError(`an engine-wide webhook takes only ${allowed.join(', ')}, not ${e}`, { details: { event: e } });
  }
  return [...new Set(events as WebhookEvent[])];
}

/** Options of `engine.webhooks.create`. */
export interface CreateWebhookOptions {
  url: string;
  events: WebhookEvent[];
  /** The HMAC-SHA256 key of `X-LevelGit-Signature-256` (never returned). */
  secret: string;
}

/**
 * `engine.webhooks`: a repository's webhooks by repository name, or with `null` for the name the
 * engine-wide ones (lifecycle events of every repository: ENGINE_WIDE_EVENTS).
 */
export class Webhooks {
  readonly #kv: Kv;
  readonly #repoId: (name: string) => Promise<number>;
  readonly #allowPrivate: boolean;

  /** Made by the engine. */
  constructor(kv: Kv, repoId: (name: string) => Promise<number>, allowPrivate: boolean) {
    this.#kv = kv;
    this.#repoId = repoId;
    this.#allowPrivate = allowPrivate;
  }

  /** Adds a webhook; the URL passes the SSRF guard (its resolved addresses are judged at each delivery). */
  async create(repo: string | null, options: CreateWebhookOptions): Promise<WebhookInfo> {
    const o = options ?? ({} as CreateWebhookOptions);
    const target = parseRemoteUrl(o.url, this.#allowPrivate);
    if (target.username !== undefined) throw new InvalidArgumentError('a webhook URL must not carry credentials');
    const events = checkEvents(o.events, repo === null);
    if (typeof o.secret !== 'string' || o.secret.length === 0 || o.secret.length > 1024)
      throw new InvalidArgumentError('secret must be a non-empty string of at most 1024 characters');
    const repoId = await this.#owner(repo);
    if ((await hooksOf(this.#kv, repoId)).length >= MAX_HOOKS) {
      const owner = repo === null ? 'the engine has' : 'a repository has';
      throw new LimitExceededError(`${owner} at most ${MAX_HOOKS} webhooks`, { details: { limit: MAX_HOOKS } });
    }
    const record: WebhookRecord = {
      id: crypto.randomUUID().replace(/-/g, '').slice(0, 20),
      url: target.url.href,
      events,
      secret: o.secret,
      createdAt: new Date().toISOString(),
    };
    await this.#kv.batch([{ type: 'put', key: hookKey(repoId, record.id), value: enc(record) }]);
    return info(record);
  }

  /** The repository's webhooks, without secrets. */
  async list(repo: string | null): Promise<WebhookInfo[]> {
    return (await hooksOf(this.#kv, await this.#owner(repo))).map(info);
  }

  /** Removes a webhook and its delivery log (deliveries already due are still attempted). */
  async remove(repo: string | null, id: string): Promise<void> {
    const repoId = await this.#owner(repo);
    await this.#find(repoId, id);
    await this.#kv.batch([{ type: 'del', key: hookKey(repoId, id) }]);
    await this.#kv.clear(logRange(repoId, id));
  }

  /** The webhook's recent attempts, newest first. */
  async deliveries(repo: string | null, id: string): Promise<DeliveryInfo[]> {
    const repoId = await this.#owner(repo);
    await this.#find(repoId, id);
    const out: DeliveryInfo[] = [];
    for await (const [, v] of this.#kv.entries(logRange(repoId, id))) out.push(dec<DeliveryInfo>(v));
    return out.reverse();
  }

  /** The id the hooks of `repo` are stored under (ENGINE_HOOKS for `null`). */
  #owner(repo: string | null): Promise<number> {
    return repo === null ? Promise.resolve(ENGINE_HOOKS) : this.#repoId(repo);
  }

  async #find(repoId: number, id: string): Promise<WebhookRecord> {
    const v = typeof id === 'string' && /^[0-9a-f]{1,64}$/.test(id) ? await this.#kv.get(hookKey(repoId, id)) : undefined;
    if (v === undefined)
      throw new NotFoundError('ERR_NOT_FOUND', `webhook ${JSON.stringify(String(id).slice(0, 80))} not found`, { details: { webhook: String(id) } });
    return dec<WebhookRecord>(v);
  }
}

function info(r: WebhookRecord): WebhookInfo {
  return { id: r.id, url: r.url, events: r.events, createdAt: r.createdAt };
}
