/**
 * What the engine wires in for remotes and webhooks, in one object so engine.ts stays small:
 * the remote client (repo.fetchFrom / pushTo), `engine.webhooks`, the delivery loop, and per
 * repository the context hooks that write events into a ref move's batch and wake the loop.
 */
import type { Kv, KvOp } from '../storage/kv.js';
import type { RepoContext } from '../repo/context.js';
import type { RemoteService } from '../repo/remotes.js';
import { createRemoteService } from '../remote/index.js';
import type { RemoteHttpOptions } from '../remote/http-client.js';
import { WebhookDispatcher, type WebhookDeliveryOptions } from './dispatcher.js';
import { ENGINE_HOOKS, Webhooks, refEventOps, repoEventOps } from './store.js';

/** The engine options these services read. */
export interface RemoteEngineOptions {
  /** Lets fetchFrom, pushTo and webhooks reach loopback, private and link-local addresses (docs/security.md). Default false. */
  allowPrivateRemotes?: boolean;
  /** Timeouts of requests to other Git servers: `timeoutMs` (answer, default 30 s), `idleTimeoutMs` (silence in a body, default 60 s). */
  remotes?: Pick<RemoteHttpOptions, 'timeoutMs' | 'idleTimeoutMs' | 'outbound'>;
  /** Webhook delivery: the loop, its timeouts and retries. */
  webhooks?: WebhookDeliveryOptions;
}

/** The engine's remote and webhook services. */
export class EngineEvents {
  readonly #kv: Kv;
  readonly #dispatcher: WebhookDispatcher;
  /** The remote client (`engine.remotes`: `lsRemote`; repositories reach the rest as `fetchFrom`/`pushTo`). */
  readonly remotes: RemoteService;
  /** `engine.webhooks`. */
  readonly webhooks: Webhooks;

  /** Starts the delivery loop (unless `webhooks.deliver` is false). */
  constructor(kv: Kv, options: RemoteEngineOptions, repoId: (name: string) => Promise<number>) {
    const http: RemoteHttpOptions = { ...options.remotes, allowPrivate: options.allowPrivateRemotes === true };
    this.#kv = kv;
    this.remotes = createRemoteService(http);
    this.webhooks = new Webhooks(kv, repoId, http.allowPrivate === true);
    this.#dispatcher = new WebhookDispatcher(kv, http, options.webhooks);
  }

  /** The context members of one repository. */
  context(repoId: number, name: string): Pick<RepoContext, 'remotes' | 'eventOps' | 'onEventsWritten'> {
    return {
      remotes: this.remotes,
      eventOps: (source, updates) => refEventOps(this.#kv, repoId, name, source, updates),
      onEventsWritten: () => this.#dispatcher.kick(),
    };
  }

  /** Outbox writes of a repository's deletion (for the batch that deletes it): to its hooks and the engine-wide ones. */
  async deletedOps(repoId: number, name: string): Promise<KvOp[]> {
    return [...(await repoEventOps(this.#kv, repoId, name, 'repo.deleted')), ...(await repoEventOps(this.#kv, ENGINE_HOOKS, name, 'repo.deleted'))];
  }

  /**
   * Outbox writes of a repository's creation (for the batch that creates it): `repo.created` to
   * the engine-wide hooks, and for a fork also to its source's hooks (with `forkOf`), as GitHub
   * tells a repository's hooks about its forks. A new repository has no hooks of its own yet.
   */
  async createdOps(repo: { name: string; defaultBranch: string }, forkOf?: { id: number; name: string }): Promise<KvOp[]> {
    const about = { defaultBranch: repo.defaultBranch, ...(forkOf === undefined ? {} : { forkOf: forkOf.name }) };
    const ops = await repoEventOps(this.#kv, ENGINE_HOOKS, repo.name, 'repo.created', about);
    if (forkOf !== undefined) ops.push(...(await repoEventOps(this.#kv, forkOf.id, repo.name, 'repo.created', about)));
    return ops;
  }

  /** Wakes the delivery loop. */
  kick(): void {
    this.#dispatcher.kick();
  }

  /** Stops the delivery loop. */
  close(): Promise<void> {
    return this.#dispatcher.stop();
  }
}
