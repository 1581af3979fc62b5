/**
 * `level-git/client`: a typed SDK over the JSON API, `fetch` only, no Node-only import. Shaped so
 * code written for hosted Git-storage SDKs ports with a changed import:
 *
 *   const store = new LevelGitClient({ url, apiKey });
 *   const repo = await store.createRepo({ id: 'team/app' });
 *   const url = await repo.getRemoteURL({ permissions: ['git:write'], ttl: 3600 });
 *   await repo.createCommit({ branch: 'main', message, author, changes });
 *
 * Errors are `LevelGitClientError`s (a `LevelGitError`) with the server's code and status.
 */
import { RemoteRepo } from './remote-repo.js';
import { Transport, repoSegment, type ClientOptions } from './transport.js';
import type { DeliveryInfo, RepoInfo, RepoPage, WebhookInfo } from './types.js';

/** Where an imported repository comes from (`createRepo({ source })`). */
export interface ImportSource {
  url: string;
  ref?: string;
  depth?: number;
  username?: string;
  password?: string;
}

/** A level-git server, reached over its JSON API. */
export class LevelGitClient {
  /** The HTTP side, for calls the SDK does not wrap. */
  readonly transport: Transport;

  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
  }

  /** A handle on a repository by name, without a request. */
  repo(id: string): RemoteRepo {
    return new RemoteRepo(this.transport, id);
  }

  /** Creates a repository (admin); with `source`, imports it from a Git URL. */
  async createRepo(options: { id: string; defaultBranch?: string; source?: ImportSource }): Promise<RemoteRepo> {
    const body: Record<string, unknown> = { name: options.id };
    if (options.defaultBranch !== undefined) body.defaultBranch = options.defaultBranch;
    if (options.source !== undefined) body.source = options.source;
    const info = await this.transport.json<RepoInfo>('POST', '/repos', { body });
    return new RemoteRepo(this.transport, info?.name ?? options.id, info);
  }

  /** The repository of that name, or null when there is none. */
  async findOne(options: { id: string }): Promise<RemoteRepo | null> {
    const info = await this.transport.json<RepoInfo | undefined>('GET', `/repos/${repoSegment(options.id)}`, { allow: [404] });
    return info === undefined ? null : new RemoteRepo(this.transport, info.name, info);
  }

  /** One page of repositories (admin), in name order; `nextCursor` continues. */
  async listRepos(options: { limit?: number; cursor?: string; prefix?: string } = {}): Promise<RepoPage> {
    const page = await this.transport.json<RepoPage>('GET', '/repos', { query: { limit: options.limit, cursor: options.cursor, prefix: options.prefix } });
    return page.nextCursor === undefined || page.nextCursor === null ? { repos: page.repos } : page;
  }

  /** Deletes a repository (admin). */
  async deleteRepo(options: { id: string }): Promise<void> {
    await this.transport.json('DELETE', `/repos/${repoSegment(options.id)}`);
  }

  /** Revokes a token the server minted (admin): refused by every process from now on. */
  async revokeToken(options: { token: string }): Promise<void> {
    await this.transport.json('POST', '/tokens/revoke', { body: { token: options.token } });
  }

  /** Registers an engine-wide webhook (admin): `repo.created` / `repo.deleted` of every repository. */
  async createWebhook(options: { url: string; events: string[]; secret: string }): Promise<WebhookInfo> {
    return this.transport.json('POST', '/webhooks', { body: options });
  }

  /** The engine-wide webhooks (without their secrets). */
  async listWebhooks(): Promise<WebhookInfo[]> {
    return (await this.transport.json<{ webhooks: WebhookInfo[] }>('GET', '/webhooks')).webhooks;
  }

  /** Removes an engine-wide webhook. */
  async deleteWebhook(options: { id: string }): Promise<void> {
    await this.transport.json('DELETE', `/webhooks/${encodeURIComponent(options.id)}`);
  }

  /** An engine-wide webhook's recent deliveries, with the receiver's status codes. */
  async listDeliveries(options: { id: string }): Promise<DeliveryInfo[]> {
    return (await this.transport.json<{ deliveries: DeliveryInfo[] }>('GET', `/webhooks/${encodeURIComponent(options.id)}/deliveries`)).deliveries;
  }

  /** The server's OpenAPI 3.1 description of the API. */
  async openapi(): Promise<Record<string, unknown>> {
    return this.transport.json('GET', '/openapi.json');
  }
}
