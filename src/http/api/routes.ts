/**
 * The JSON API's route table, under the prefix (default `/api/v1`). `:repo` is `name` or
 * `owner/name`, or `owner%2Fname`; reads need a token that may read the repository, writes one
 * that may write it (its ref policies judge every ref a write moves), admin rows the admin key.
 *
 *   GET    /repos                          admin   list, a page at a time (?limit, ?cursor, ?prefix)
 *   POST   /repos                          admin   create
 *   GET    /repos/:repo                    read    info
 *   DELETE /repos/:repo                    admin   delete
 *   POST   /repos/:repo/remote-url         admin   mint a token URL
 *   GET    /repos/:repo/commits            read    log, a page at a time (?path, ?limit, ?cursor)
 *   POST   /repos/:repo/commits            write   commit file changes
 *   GET    /repos/:repo/files/<path>       read    raw bytes (ETag, Range, If-None-Match)
 *   GET    /repos/:repo/tree               read    list a directory
 *   GET    /repos/:repo/branches           read    list branches
 *   POST   /repos/:repo/branches           write   create a branch
 *   DELETE /repos/:repo/branches/<branch>  write   delete a branch
 *   POST   /repos/:repo/refs               write   all-or-nothing ref updates
 *   POST   /repos/:repo/ephemeral/promote  write   ephemeral branch -> regular branch
 *   POST   /tokens/revoke                  admin   revoke a token (in the database)
 *   GET    /repos/:repo/compare            read    merge base, ahead/behind, commits, diff (or text)
 *   GET    /repos/:repo/diff               read    diff of two revisions (or text)
 *   GET    /repos/:repo/commits/:sha/diff  read    diff against the first parent
 *   POST   /repos/:repo/merges             write   merge, squash or fast-forward into a branch
 *   POST   /repos/:repo/reverts            write   a commit undoing another
 *   POST   /repos  { source: { url } }     admin   create by importing from a Git URL
 *   POST   /repos/:repo/push               admin   mirror refs to another Git server
 *   POST   /repos/:repo/webhooks           admin   add a webhook
 *   GET    /repos/:repo/webhooks           admin   list webhooks (no secrets)
 *   DELETE /repos/:repo/webhooks/:id       admin   remove a webhook
 *   GET    /repos/:repo/webhooks/:id/deliveries admin recent deliveries
 *   GET    /openapi.json                   public  the OpenAPI 3.1 description of this table
 *   POST   /repos/:repo/fork               admin   a new repository sharing this one's objects
 *   GET    /repos/:repo/archive            read    the tree as git archive writes it (tar, tar.gz, zip), streamed
 *   GET    /repos/:repo/tags               read    list tags
 *   POST   /repos/:repo/tags               write   create a tag (annotated with a message)
 *   DELETE /repos/:repo/tags/<tag>         write   delete a tag
 *   POST   /webhooks                       admin   add an engine-wide webhook (repo.created, repo.deleted of every repository)
 *   GET    /webhooks                       admin   list engine-wide webhooks (no secrets)
 *   DELETE /webhooks/:id                   admin   remove one
 *   GET    /webhooks/:id/deliveries        admin   its recent deliveries
 */
import { branchRoutes } from './branches.js';
import { commitRoutes } from './commits.js';
import { fileRoutes } from './files.js';
import { mergeRoutes } from './merges.js';
import { openApiRoutes } from './openapi.js';
import { promoteRoutes } from './promote.js';
import { refRoutes } from './refs.js';
import { repoRoutes } from './repos.js';
import { createRouter, type ApiRoute } from './router.js';
import { tokenRoutes } from './tokens.js';
import { remoteRoutes } from './remotes.js';
import { forkRoutes } from './forks.js';
import { archiveRoutes } from './archive.js';
import { tagRoutes } from './tags.js';
import { engineWebhookRoutes } from './engine-webhooks.js';

/** Every route of the API, in matching order. */
export const API_ROUTES: readonly ApiRoute[] = [
  ...repoRoutes,
  ...commitRoutes,
  ...fileRoutes,
  ...branchRoutes,
  ...refRoutes,
  ...promoteRoutes,
  ...mergeRoutes,
  ...tokenRoutes,
  ...remoteRoutes,
  ...openApiRoutes(() => API_ROUTES),
  ...forkRoutes,
  ...archiveRoutes,
  ...tagRoutes,
  ...engineWebhookRoutes,
];

/** The compiled table. */
export const API_ROUTER = createRouter(API_ROUTES);

/** Splits the segments after `/repos/` into the repository name and the rest (keywords from the table). */
export const splitRepoPath = API_ROUTER.splitRepoPath;
