/**
 * What openapi.json says about each row of the route table, keyed `METHOD path` exactly as the
 * table writes it (openapi.ts pairs them and refuses a row without a description).
 */

/** A query parameter: its type, whether it repeats, whether it is required. */
export interface QueryDoc {
  type: 'string' | 'integer' | 'boolean';
  description?: string;
  repeat?: boolean;
  required?: boolean;
}

/** A success answer: a component schema's name, or a kind of body that is not JSON (`more`: other media types it may have). */
export type AnswerDoc = string | { bytes: string; more?: string[] } | { empty: true };

/** One route's description. */
export interface RouteDoc {
  summary: string;
  tag: string;
  query?: Record<string, QueryDoc>;
  /** The component schema of the JSON body. */
  body?: string;
  /** Another media type the body may have (its text described by the summary). */
  altBody?: string;
  /** The component schema of each line of `altBody` when it is NDJSON (after its first line). */
  altLines?: string;
  /** Success answers by status. */
  answers: Record<number, AnswerDoc>;
}

const ephemeral: QueryDoc = { type: 'boolean', description: 'read through the ephemeral view (ephemeral refs over regular ones)' };
const refQ: QueryDoc = { type: 'string', description: 'branch, tag, full ref name or commit sha; the default branch when absent' };
const diffQ: Record<string, QueryDoc> = {
  path: { type: 'string', repeat: true, description: 'limit the diff to these paths' },
  context: { type: 'integer', description: 'lines of context (3)' },
  renames: { type: 'boolean', description: 'detect renames (true)' },
  format: { type: 'string', description: '`diff` for the unified text (also `Accept: text/x-diff`), `json` (default)' },
  ephemeral,
};
const diffText = { bytes: 'text/x-diff' };

/** Every route's description. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /repos': {
    summary: 'List repositories, a page at a time',
    tag: 'repositories',
    query: { limit: { type: 'integer' }, cursor: { type: 'string', description: 'nextCursor of the previous page (opaque)' }, prefix: { type: 'string' } },
    answers: { 200: 'RepoList' },
  },
  'POST /repos': {
    summary: 'Create a repository (with `source`: import it from a Git URL)',
    tag: 'repositories',
    body: 'CreateRepo',
    answers: { 201: 'Repo' },
  },
  'GET /repos/:repo': { summary: 'Describe a repository', tag: 'repositories', answers: { 200: 'Repo' } },
  'DELETE /repos/:repo': { summary: 'Delete a repository', tag: 'repositories', answers: { 204: { empty: true } } },
  'POST /repos/:repo/remote-url': {
    summary: 'Mint a Git URL carrying a token',
    tag: 'tokens',
    body: 'RemoteUrlRequest',
    answers: { 200: 'RemoteUrl' },
  },
  'GET /repos/:repo/commits': {
    summary: 'History, newest first',
    tag: 'commits',
    query: {
      ref: refQ,
      path: { type: 'string', description: 'only commits that changed this path' },
      limit: { type: 'integer', description: '1..1000 (50)' },
      cursor: { type: 'string', description: 'nextCursor of the previous page (opaque)' },
      ephemeral,
    },
    answers: { 200: 'Log' },
  },
  'POST /repos/:repo/commits': {
    summary: 'Commit file changes to a branch (JSON, or NDJSON streamed line by line)',
    tag: 'commits',
    body: 'CommitRequest',
    altBody: 'application/x-ndjson',
    altLines: 'NdjsonChange',
    answers: { 201: 'CommitResult' },
  },
  'GET /repos/:repo/files/*path?': {
    summary: "A file's bytes (ETag, Range, If-None-Match)",
    tag: 'files',
    query: { ref: refQ, ephemeral },
    answers: { 200: { bytes: 'application/octet-stream' }, 206: { bytes: 'application/octet-stream' }, 304: { empty: true } },
  },
  'HEAD /repos/:repo/files/*path?': {
    summary: "A file's headers",
    tag: 'files',
    query: { ref: refQ, ephemeral },
    answers: { 200: { empty: true }, 304: { empty: true } },
  },
  'GET /repos/:repo/tree': {
    summary: 'List a directory',
    tag: 'files',
    query: { ref: refQ, path: { type: 'string' }, recursive: { type: 'boolean' }, ephemeral },
    answers: { 200: 'Tree' },
  },
  'GET /repos/:repo/branches': { summary: 'List the branches of one space', tag: 'branches', query: { ephemeral }, answers: { 200: 'Branches' } },
  'POST /repos/:repo/branches': { summary: 'Create a branch', tag: 'branches', body: 'CreateBranch', answers: { 201: 'CreatedBranch' } },
  'DELETE /repos/:repo/branches/*branch': {
    summary: 'Delete a branch',
    tag: 'branches',
    query: { ephemeral, expectedSha: { type: 'string', description: 'compare-and-swap on the branch' } },
    answers: { 204: { empty: true } },
  },
  'POST /repos/:repo/refs': { summary: 'All-or-nothing ref updates', tag: 'branches', body: 'RefsRequest', answers: { 200: 'RefsResult' } },
  'POST /repos/:repo/ephemeral/promote': {
    summary: 'Promote an ephemeral branch into the regular space',
    tag: 'branches',
    body: 'PromoteRequest',
    answers: { 200: 'PromoteResult' },
  },
  'POST /tokens/revoke': { summary: 'Revoke a token', tag: 'tokens', body: 'RevokeRequest', answers: { 204: { empty: true } } },
  'GET /repos/:repo/compare': {
    summary: 'Compare two revisions (merge base, ahead/behind, commits, diff)',
    tag: 'review',
    query: { base: { type: 'string', required: true }, head: { type: 'string', required: true }, limit: { type: 'integer' }, ...diffQ },
    answers: { 200: 'Compare' },
  },
  'GET /repos/:repo/diff': {
    summary: 'Diff two revisions',
    tag: 'review',
    query: { base: { type: 'string', required: true }, head: { type: 'string', required: true }, ...diffQ },
    answers: { 200: 'Diff' },
  },
  'GET /repos/:repo/commits/:sha/diff': { summary: "A commit's diff against its first parent", tag: 'review', query: diffQ, answers: { 200: 'Diff' } },
  'POST /repos/:repo/merges': {
    summary: 'Merge, squash or fast-forward a branch into another',
    tag: 'review',
    body: 'MergeRequest',
    answers: { 200: 'MergeResult', 201: 'MergeResult' },
  },
  'POST /repos/:repo/reverts': { summary: 'Revert a commit on a branch', tag: 'review', body: 'RevertRequest', answers: { 201: 'RevertResult' } },
  'POST /repos/:repo/fork': { summary: 'Fork a repository (objects shared, not copied)', tag: 'repositories', body: 'ForkRequest', answers: { 201: 'Repo' } },
  'GET /repos/:repo/archive': {
    summary: 'The tree as git archive writes it (.gitattributes export-ignore and export-subst applied), streamed',
    tag: 'files',
    query: {
      ref: refQ,
      format: { type: 'string', description: '`tar` (default), `tar.gz` or `zip`' },
      path: { type: 'string', description: 'a subdirectory' },
      prefix: { type: 'string', description: 'a prefix for every path (`app/`)' },
      ephemeral,
    },
    answers: { 200: { bytes: 'application/x-tar', more: ['application/gzip', 'application/zip'] }, 304: { empty: true } },
  },
  'GET /repos/:repo/tags': { summary: 'List tags', tag: 'branches', answers: { 200: 'Tags' } },
  'POST /repos/:repo/tags': { summary: 'Create a tag (annotated when a message is given)', tag: 'branches', body: 'CreateTag', answers: { 201: 'Tag' } },
  'DELETE /repos/:repo/tags/*tag': { summary: 'Delete a tag', tag: 'branches', answers: { 204: { empty: true } } },
  'POST /repos/:repo/push': {
    summary: 'Push refs to another Git server (mirror out), the pack streamed as it is generated',
    tag: 'repositories',
    body: 'PushRequest',
    answers: { 200: 'PushResult' },
  },
  'POST /repos/:repo/webhooks': { summary: 'Add a webhook', tag: 'webhooks', body: 'WebhookRequest', answers: { 201: 'Webhook' } },
  'GET /repos/:repo/webhooks': { summary: 'List webhooks (no secrets)', tag: 'webhooks', answers: { 200: 'Webhooks' } },
  'DELETE /repos/:repo/webhooks/:id': { summary: 'Remove a webhook', tag: 'webhooks', answers: { 204: { empty: true } } },
  'GET /repos/:repo/webhooks/:id/deliveries': { summary: "A webhook's recent deliveries", tag: 'webhooks', answers: { 200: 'Deliveries' } },
  'POST /webhooks': {
    summary: 'Add an engine-wide webhook: repo.created and repo.deleted of every repository',
    tag: 'webhooks',
    body: 'WebhookRequest',
    answers: { 201: 'Webhook' },
  },
  'GET /webhooks': { summary: 'List engine-wide webhooks (no secrets)', tag: 'webhooks', answers: { 200: 'Webhooks' } },
  'DELETE /webhooks/:id': { summary: 'Remove an engine-wide webhook', tag: 'webhooks', answers: { 204: { empty: true } } },
  'GET /webhooks/:id/deliveries': { summary: "An engine-wide webhook's recent deliveries", tag: 'webhooks', answers: { 200: 'Deliveries' } },
  'GET /openapi.json': { summary: 'This description', tag: 'meta', answers: { 200: { bytes: 'application/json' } } },
};

/** Routes whose JSON answer may instead be the unified diff text. */
export const TEXT_ALTERNATIVES: Record<string, { bytes: string }> = {
  'GET /repos/:repo/compare': diffText,
  'GET /repos/:repo/diff': diffText,
  'GET /repos/:repo/commits/:sha/diff': diffText,
};
