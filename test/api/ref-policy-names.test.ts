/**
 * Ref policies on JSON API writes judge the full ref that moves, however the request spells it
 * (issue: a token with `[["refs/heads/main",["no-force-push"]],["refs/heads/release",["no-push"]]]`
 * could delete main with `DELETE /branches/refs/heads/main`, commit to `refs/heads/release` and
 * promote onto `refs/heads/main`, because the policy was asked about `refs/heads/<name>` while the
 * operation moved `<name>` as given). Every writing route is tried with short names, full names,
 * percent-encoded names and doubled or odd prefixes: each refusal is 403 ERR_REF_REJECTED (or
 * 400 for a name that is no ref) and no ref of either space moved.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import type { RefPolicy } from '../../src/access/types.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
const ZERO = '0'.repeat(40);
/** The example of docs/security.md and of the report. */
const ISSUE_POLICY: RefPolicy[] = [
  ['refs/heads/main', ['no-force-push']],
  ['refs/heads/release', ['no-push']],
];
/** The same, plus a rule for branches whose short name itself starts with `refs/`. */
const STRICT_POLICY: RefPolicy[] = [...ISSUE_POLICY, ['refs/heads/refs/*', ['no-push']]];

let engine: Engine;
let tokens: TokenService;
let api: FetchHandler;
let base: string; // main's first commit
let tip: string; // main's tip, one commit ahead of base
let root: string; // an unrelated root commit, the ephemeral sandbox
let issueToken: Record<string, string>;
let strictToken: Record<string, string>;

interface Res {
  status: number;
  json: any;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': ADMIN }): Promise<Res> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = (await api(new Request(`http://api.test/api/v1/repos/app${path}`, init)))!;
  const text = await r.text();
  return { status: r.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function bearer(refs: RefPolicy[]): Promise<Record<string, string>> {
  const { token } = await tokens.mint({ repo: 'app', permissions: ['git:write'], refs });
  return { authorization: `Bearer ${token}` };
}

/** Every ref of both spaces. */
async function snapshot(): Promise<unknown> {
  const repo = await engine.getRepo('app');
  return { regular: await repo.refs.list(), ephemeral: await repo.refs.list({ space: 'ephemeral' }) };
}

function commitBody(branch: string, extra: Record<string, unknown> = {}) {
  return { branch, message: 'm', author: AUTHOR, changes: [{ path: `f-${Math.random()}`, content: 'x' }], ...extra };
}

/** Each attempt answers `status` with `code`, and no ref of either space moved. */
async function expectRefused(attempts: [string, string, unknown?][], headers: Record<string, string>, status = 403, code = 'ERR_REF_REJECTED'): Promise<void> {
  const before = await snapshot();
  for (const [method, path, body] of attempts) {
    const r = await call(method, path, body, headers);
    const what = `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`;
    expect(r.status, what).toBe(status);
    expect(r.json, what).toEqual({ error: { code, message: expect.any(String) } });
  }
  expect(await snapshot()).toEqual(before);
}

beforeEach(async () => {
  engine = await openEngine({ db: new MemoryLevel() as any });
  tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
  api = createApiFetchHandler({ engine, tokens, adminKey: ADMIN });
  const repo = await engine.createRepo('app');
  base = (await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] })).sha;
  tip = (await repo.commit({ branch: 'main', message: 'tip', author: AUTHOR, changes: [{ path: 'b', content: 'b' }] })).sha;
  await repo.createBranch('release', 'main');
  // An ephemeral branch with no history in common with main: promoting it onto main is forced.
  root = (await repo.commit({ branch: 'sandbox', message: 'root', author: AUTHOR, changes: [{ path: 'r', content: 'r' }], space: 'ephemeral' })).sha;
  issueToken = await bearer(ISSUE_POLICY);
  strictToken = await bearer(STRICT_POLICY);
});

afterEach(async () => {
  await engine.close();
});

describe('branch names on API writes are judged as the full ref that moves', () => {
  it('commits: short, full and doubled names of a no-push branch are refused', async () => {
    await expectRefused(
      [
        ['POST', '/commits', commitBody('release')],
        ['POST', '/commits', commitBody('refs/heads/release')],
        ['POST', '/commits', commitBody('refs/heads/release', { ephemeral: true })],
        ['POST', '/commits', commitBody('refs/heads/release', { idempotencyKey: 'step-1' })],
      ],
      issueToken,
    );
    await expectRefused([['POST', '/commits', commitBody('refs/heads/refs/heads/release')]], strictToken);
  });

  it('branch creation: short, full and doubled names are refused', async () => {
    await (await engine.getRepo('app')).deleteBranch('release');
    await expectRefused(
      [
        ['POST', '/branches', { name: 'release' }],
        ['POST', '/branches', { name: 'refs/heads/release' }],
        ['POST', '/branches', { name: 'refs/heads/release', ephemeral: true }],
      ],
      issueToken,
    );
    await expectRefused(
      [
        ['POST', '/branches', { name: 'refs/heads/refs/heads/main' }],
        ['POST', '/branches', { name: 'refs/heads/refs/heads/release', from: 'main' }],
      ],
      strictToken,
    );
  });

  it('branch deletion: short, full, percent-encoded and doubled names are refused', async () => {
    await expectRefused(
      [
        ['DELETE', '/branches/main'],
        ['DELETE', '/branches/refs/heads/main'],
        ['DELETE', '/branches/refs%2Fheads%2Fmain'],
        ['DELETE', `/branches/refs/heads/main?expectedSha=${tip}`],
        ['DELETE', '/branches/release'],
        ['DELETE', '/branches/refs/heads/release'],
        ['DELETE', '/branches/refs/heads/main?ephemeral=true'],
      ],
      issueToken,
    );
    await expectRefused([['DELETE', '/branches/refs/heads/refs/heads/main']], strictToken);
  });

  it('ref transactions: full names are judged, doubled ones as written, short ones are no refs (400)', async () => {
    await expectRefused(
      [
        ['POST', '/refs', { updates: [{ ref: 'refs/heads/main', newSha: base }] }],
        ['POST', '/refs', { updates: [{ ref: 'refs/heads/main', oldSha: tip, newSha: root }] }],
        ['POST', '/refs', { updates: [{ ref: 'refs/heads/main', newSha: ZERO }] }],
        ['POST', '/refs', { updates: [{ ref: 'refs/heads/release', newSha: tip }] }],
        [
          'POST',
          '/refs',
          {
            updates: [
              { ref: 'refs/heads/other', oldSha: ZERO, newSha: tip },
              { ref: 'refs/heads/release', newSha: base },
            ],
          },
        ],
      ],
      issueToken,
    );
    await expectRefused([['POST', '/refs', { updates: [{ ref: 'refs/heads/refs/heads/main', newSha: base }] }]], strictToken);
    await expectRefused(
      [
        ['POST', '/refs', { updates: [{ ref: 'main', newSha: base }] }],
        ['POST', '/refs', { updates: [{ ref: 'heads/main', newSha: base }] }],
        ['POST', '/refs', { updates: [{ ref: '/refs/heads/main', newSha: base }] }],
        ['POST', '/refs', { updates: [{ ref: 'refs/heads//main', newSha: base }] }],
        ['POST', '/refs', { updates: [{ ref: 'HEAD', newSha: base }] }],
      ],
      issueToken,
      400,
      'ERR_INVALID_REF_NAME',
    );
  });

  it('promotion: a forced move onto main and any move onto release are refused, however named', async () => {
    const repo = await engine.getRepo('app');
    // An ephemeral main with no history in common with the regular one.
    await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: ZERO, newOid: root, space: 'ephemeral' }]);
    await expectRefused(
      [
        ['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'refs/heads/main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'refs/heads/sandbox', targetBranch: 'main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'refs/heads/sandbox', targetBranch: 'refs/heads/main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: tip }],
        ['POST', '/ephemeral/promote', { baseBranch: 'main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'refs/heads/main' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'release' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'refs/heads/sandbox', targetBranch: 'refs/heads/release' }],
      ],
      issueToken,
    );
    await expectRefused([['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'refs/heads/refs/heads/main' }]], strictToken);
    // A missing ephemeral source is 404 whatever its spelling, and nothing moves.
    await expectRefused([['POST', '/ephemeral/promote', { baseBranch: 'refs/heads/nothing', targetBranch: 'main' }]], issueToken, 404, 'ERR_REF_NOT_FOUND');
  });

  it('names that are no valid branch are 400 before anything is judged', async () => {
    await expectRefused(
      [
        ['POST', '/commits', commitBody('/refs/heads/release')],
        ['POST', '/commits', commitBody('refs/heads/')],
        ['POST', '/commits', commitBody('refs/heads//release')],
        ['POST', '/commits', commitBody(' refs/heads/release')],
        ['POST', '/branches', { name: 'refs/heads/release/' }],
        ['POST', '/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'refs/heads/../release' }],
      ],
      issueToken,
      400,
      'ERR_INVALID_REF_NAME',
    );
  });

  it('a doubled or odd prefix names its own ref: allowed where the policy allows that ref, and main and release stay put', async () => {
    const before = (await snapshot()) as { regular: [string, { oid: string }][] };
    const at = (s: { regular: [string, { oid: string }][] }, ref: string) => s.regular.find(([r]) => r === ref)?.[1].oid;
    for (const [branch, ref] of [
      ['refs/heads/refs/heads/release', 'refs/heads/refs/heads/release'],
      ['heads/release', 'refs/heads/heads/release'],
      ['Refs/Heads/release', 'refs/heads/Refs/Heads/release'],
      ['refs/tags/release', 'refs/heads/refs/tags/release'],
    ]) {
      const r = await call('POST', '/commits', commitBody(branch!), issueToken);
      expect(r.status, branch).toBe(201);
      expect(r.json.ref).toBe(ref);
    }
    const after = (await snapshot()) as { regular: [string, { oid: string }][] };
    expect(at(after, 'refs/heads/main')).toBe(at(before, 'refs/heads/main'));
    expect(at(after, 'refs/heads/release')).toBe(at(before, 'refs/heads/release'));
  });

  it('what the policy allows still works with full names: fast-forwards of main', async () => {
    const c = await call('POST', '/commits', commitBody('refs/heads/main'), issueToken);
    expect(c.status).toBe(201);
    expect(c.json.parents).toEqual([tip]);
    const ff = await call('POST', '/refs', { updates: [{ ref: 'refs/heads/main', oldSha: c.json.sha, newSha: c.json.sha }] }, issueToken);
    expect(ff.status).toBe(200);
    const repo = await engine.getRepo('app');
    await repo.refs.transaction([{ ref: 'refs/heads/ahead', oldOid: ZERO, newOid: c.json.sha, space: 'ephemeral' }]);
    const p = await call('POST', '/ephemeral/promote', { baseBranch: 'refs/heads/ahead', targetBranch: 'refs/heads/main' }, issueToken);
    expect(p.status).toBe(200);
    expect(p.json).toEqual({ targetBranch: 'main', sha: c.json.sha });
  });
});
