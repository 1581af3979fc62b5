/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the API's bodies and answers, by name:
 * `components.schemas` of openapi.json. Objects list what is required and allow more, so a
 * field added later does not break a client that validates.
 */

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const sha: Schema = { type: 'string', pattern: '^[0-9a-f]{40}$' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required });

/** `components.schemas`. */
export const SCHEMAS: Record<string, Schema> = {
  Error: obj({ error: obj({ code: str, message: str, conflicts: arr(ref('Conflict')) }, ['code', 'message']) }, ['error']),
  Repo: obj({ name: str, defaultBranch: str, createdAt: { type: ['string', 'number'] } }, ['name', 'defaultBranch', 'createdAt']),
  RepoList: obj({ repos: arr(ref('Repo')), nextCursor: { type: ['string', 'null'] } }, ['repos']),
  CreateRepo: obj(
    {
      name: str,
      defaultBranch: str,
      source: obj({ url: str, ref: str, depth: int, username: str, password: str, fsck: { type: 'object' } }, ['url']),
    },
    ['name'],
  ),
  Person: obj({ name: str, email: str, timestamp: { type: 'number' }, timezone: { type: ['string', 'number'] } }, ['name', 'email']),
  RefPolicy: { type: 'array', prefixItems: [str, arr(str)], minItems: 2, maxItems: 2 },
  RemoteUrlRequest: obj({ permissions: arr(str), ttl: int, ephemeral: bool, refs: arr(ref('RefPolicy')), sub: str }),
  RemoteUrl: obj({ url: str, token: str, expiresAt: str }, ['url', 'token', 'expiresAt']),
  Change: {
    oneOf: [
      obj({ path: str, content: str, encoding: { enum: ['utf-8', 'utf8', 'base64'] }, mode: { enum: ['100644', '100755', '120000'] } }, ['path', 'content']),
      obj({ path: str, delete: { const: true } }, ['path', 'delete']),
    ],
  },
  NdjsonChange: {
    description:
      'A line after the first of an NDJSON commit (the first is a CommitRequest without `changes`). `size` (first line of a file only): its length in bytes, so a big file is hashed in one pass; a file of another length is a 400. `append`: more bytes of the file on the line before.',
    oneOf: [
      obj(
        {
          path: str,
          content: str,
          encoding: { enum: ['utf-8', 'utf8', 'base64'] },
          mode: { enum: ['100644', '100755', '120000'] },
          size: { type: 'integer', minimum: 0 },
          append: bool,
        },
        ['path', 'content'],
      ),
      obj({ path: str, delete: { const: true } }, ['path', 'delete']),
    ],
  },
  CommitRequest: obj(
    {
      branch: str,
      message: str,
      author: ref('Person'),
      committer: ref('Person'),
      changes: arr(ref('Change')),
      expectedHeadSha: str,
      baseBranch: str,
      ephemeral: bool,
      ttl: int,
      idempotencyKey: str,
    },
    ['branch', 'message', 'author', 'changes'],
  ),
  CommitResult: obj({ sha, branch: str, ref: str, tree: sha, parents: arr(sha), ephemeral: bool }, ['sha', 'branch', 'ref', 'tree', 'parents', 'ephemeral']),
  LogEntry: obj({ sha, message: str, author: { type: 'object' }, committer: { type: 'object' }, parents: arr(sha), tree: sha }, [
    'sha',
    'message',
    'author',
    'committer',
    'parents',
    'tree',
  ]),
  Log: obj({ commits: arr(ref('LogEntry')), nextCursor: { type: ['string', 'null'] } }, ['commits']),
  TreeEntry: obj({ path: str, mode: str, type: { enum: ['blob', 'tree', 'commit'] }, sha, size: int }, ['path', 'mode', 'type', 'sha']),
  Tree: obj({ entries: arr(ref('TreeEntry')) }, ['entries']),
  Branch: obj({ name: str, sha }, ['name', 'sha']),
  Branches: obj({ branches: arr(ref('Branch')) }, ['branches']),
  CreateBranch: obj({ name: str, from: str, ephemeral: bool, ttl: int }, ['name']),
  CreatedBranch: obj({ name: str, sha, ephemeral: bool }, ['name', 'sha', 'ephemeral']),
  RefsRequest: obj({ updates: arr(obj({ ref: str, oldSha: str, newSha: str }, ['ref', 'newSha'])), ephemeral: bool, ttl: int }, ['updates']),
  RefsResult: obj({ updates: arr(obj({ ref: str, space: { enum: ['regular', 'ephemeral'] }, oldSha: sha, newSha: sha }, ['ref', 'space', 'newSha'])) }, [
    'updates',
  ]),
  PromoteRequest: obj({ baseBranch: str, targetBranch: str, expectedTargetSha: str, expectedSourceSha: str }, ['baseBranch']),
  PromoteResult: obj({ targetBranch: str, sha }, ['targetBranch', 'sha']),
  RevokeRequest: obj({ token: str }, ['token']),
  DiffFile: obj(
    {
      path: str,
      oldPath: str,
      status: { enum: ['added', 'modified', 'deleted', 'renamed', 'type-changed'] },
      oldMode: str,
      newMode: str,
      oldSha: sha,
      newSha: sha,
      binary: bool,
      additions: int,
      deletions: int,
      similarity: int,
      hunks: arr({ type: 'object' }),
      truncated: bool,
    },
    ['path', 'status', 'binary', 'additions', 'deletions'],
  ),
  Diff: obj({ files: arr(ref('DiffFile')), truncated: bool }, ['files']),
  Compare: obj(
    { mergeBase: { type: ['string', 'null'] }, ahead: int, behind: int, commits: arr(ref('LogEntry')), files: arr(ref('DiffFile')), truncated: bool },
    ['mergeBase', 'ahead', 'behind', 'commits', 'files'],
  ),
  Conflict: obj({ path: str, kind: { enum: ['content', 'add-add', 'modify-delete', 'rename', 'mode', 'file-directory'] } }, ['path', 'kind']),
  MergeRequest: obj(
    { base: str, head: str, strategy: { enum: ['merge', 'squash', 'fast-forward'] }, message: str, author: ref('Person'), expectedBaseSha: str, dryRun: bool },
    ['base', 'head'],
  ),
  MergeResult: {
    oneOf: [
      obj({ sha, strategy: { enum: ['merge', 'squash', 'fast-forward'] }, fastForward: bool, tree: sha, upToDate: bool }, [
        'sha',
        'strategy',
        'fastForward',
        'tree',
      ]),
      obj({ mergeable: bool, conflicts: arr(ref('Conflict')), tree: sha }, ['mergeable', 'conflicts']),
    ],
  },
  RevertRequest: obj({ branch: str, commit: str, message: str, author: ref('Person'), expectedHeadSha: str }, ['branch', 'commit']),
  RevertResult: obj({ sha, tree: sha }, ['sha', 'tree']),
  ForkRequest: obj({ name: str, branches: { oneOf: [arr(str), { const: 'all' }] }, defaultBranch: str }, ['name']),
  Tag: obj({ name: str, sha, peeled: sha, annotated: bool }, ['name', 'sha']),
  Tags: obj({ tags: arr(ref('Tag')) }, ['tags']),
  CreateTag: obj({ name: str, target: str, message: str, tagger: ref('Person') }, ['name', 'target']),
  PushRequest: obj({ url: str, refs: arr(str), force: bool, username: str, password: str }, ['url']),
  PushResult: obj({ updates: arr(obj({ ref: str, status: str }, ['ref', 'status'])) }, ['updates']),
  WebhookRequest: obj({ url: str, events: arr(str), secret: str }, ['url', 'events', 'secret']),
  Webhook: obj({ id: str, url: str, events: arr(str), createdAt: str }, ['id', 'url', 'events']),
  Webhooks: obj({ webhooks: arr(ref('Webhook')) }, ['webhooks']),
  Deliveries: obj({ deliveries: arr(obj({ id: str, event: str, attempt: int, status: int, ok: bool, at: str }, ['id', 'event', 'status'])) }, ['deliveries']),
};
