/**
 * Real git against a tiny 127.0.0.1 server that only does the auth dance through
 * createTokenAuthorizer and then advertises an empty repository (protocol v0): shows how
 * git sends the token from a remote URL, and what it does on 401 and 403.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBasicAuth } from '../../src/access/policy.js';
import { createTokenAuthorizer } from '../../src/http/authorize.js';
import { createTokenService } from '../../src/access/tokens.js';
import { gitEnv, runGit } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

const tokens = createTokenService({ keys: { secret: 'git-credentials-test-secret-0123456789abcdef' } });
const authorize = createTokenAuthorizer(tokens);

function pkt(s: string): string {
  return (s.length + 4).toString(16).padStart(4, '0') + s;
}

function advertisement(service: string): string {
  const caps = service === 'git-receive-pack' ? 'report-status delete-refs' : 'multi_ack side-band-64k';
  return pkt(`# service=${service}\n`) + '0000' + pkt(`${'0'.repeat(40)} capabilities^{}\0${caps}\n`) + '0000';
}

let server: Server;
let base: string;
let home: string;
let cleanupHome: () => void;
const seen: { url: string; authorization: string | undefined; status: number }[] = [];

beforeAll(async () => {
  ({ dir: home, cleanup: cleanupHome } = tempDir('level-git-access-'));
  server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const service = url.searchParams.get('service') ?? '';
      const m = /^\/(.+)\.git\/info\/refs$/.exec(url.pathname);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const record = (status: number) => seen.push({ url: req.url ?? '', authorization: req.headers.authorization, status });
      if (m === null || (service !== 'git-upload-pack' && service !== 'git-receive-pack')) {
        record(404);
        res.writeHead(404).end();
        return;
      }
      const decision = await authorize({ repo: m[1]!, ephemeral: false, action: service === 'git-receive-pack' ? 'write' : 'read', service, headers });
      if (!decision.allow) {
        record(decision.status);
        const h: Record<string, string> = { 'content-type': 'text/plain' };
        if (decision.status === 401) h['www-authenticate'] = 'Basic realm="level-git"';
        res.writeHead(decision.status, h).end(decision.message + '\n');
        return;
      }
      record(200);
      res.writeHead(200, { 'content-type': `application/x-${service}-advertisement`, 'cache-control': 'no-cache' }).end(advertisement(service));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanupHome();
});

async function git(args: string[], cwd = home): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, ...gitEnv(home), GIT_CONFIG_GLOBAL: join(home, 'no-such-gitconfig'), NO_PROXY: '127.0.0.1' };
  const r = await runGit(['-c', 'credential.helper=', ...args], { cwd, env, inheritEnv: false, timeoutMs: 30_000 });
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
}

describe('git sends the token from the remote URL', () => {
  it('as the Basic password after a 401 (any user name)', async () => {
    const { token } = await tokens.mint({ repo: 'acme/site' });
    seen.length = 0;
    const r = await git(['ls-remote', `http://t:${token}@${base}/acme/site.git`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(seen.map((s) => s.status)).toEqual([401, 200]);
    expect(seen[0]!.authorization).toBeUndefined();
    expect(parseBasicAuth(seen[1]!.authorization ?? null)).toEqual({ user: 't', password: token });
  });

  it('as the user name with an empty password', async () => {
    const { token } = await tokens.mint({ repo: 'acme/site' });
    seen.length = 0;
    const r = await git(['ls-remote', `http://${token}:@${base}/acme/site.git`]);
    expect(r.code).toBe(0);
    expect(parseBasicAuth(seen.at(-1)!.authorization ?? null)).toEqual({ user: token, password: '' });
  });

  it('as a Bearer token from http.extraHeader, on the first request', async () => {
    const { token } = await tokens.mint({ repo: 'acme/site' });
    seen.length = 0;
    const r = await git(['-c', `http.extraHeader=Authorization: Bearer ${token}`, 'ls-remote', `http://${base}/acme/site.git`]);
    expect(r.code).toBe(0);
    expect(seen.map((s) => s.status)).toEqual([200]);
    expect(seen[0]!.authorization).toBe(`Bearer ${token}`);
  });

  it('is asked for (401) when missing, and git gives up without a prompt', async () => {
    seen.length = 0;
    const r = await git(['ls-remote', `http://${base}/acme/site.git`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not read Username/);
    expect(seen.map((s) => s.status)).toEqual([401]);
  });

  it('a read-only token cannot push: 403 for receive-pack', async () => {
    const { token } = await tokens.mint({ repo: 'acme/site', permissions: ['git:read'] });
    const repo = join(home, 'work');
    expect((await git(['init', '-q', repo])).code).toBe(0);
    expect((await git(['commit', '-q', '--allow-empty', '-m', 'one'], repo)).code).toBe(0);
    seen.length = 0;
    const r = await git(['push', `http://t:${token}@${base}/acme/site.git`, 'HEAD:refs/heads/main'], repo);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/403/);
    expect(seen.map((s) => s.status)).toEqual([401, 403]);
  });

  it('a token for another repository gets 403', async () => {
    const { token } = await tokens.mint({ repo: 'acme/other' });
    seen.length = 0;
    const r = await git(['ls-remote', `http://t:${token}@${base}/acme/site.git`]);
    expect(r.code).not.toBe(0);
    expect(seen.map((s) => s.status)).toEqual([401, 403]);
  });
});
