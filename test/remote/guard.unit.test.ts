/**
 * The SSRF guard and the guarded HTTP client without a network: which addresses are refused,
 * how URLs are parsed (credentials moved out), and what the client does with redirects
 * (re-checked, credentials kept to the first origin), hanging answers and error statuses,
 * over a fake `outbound`.
 */
import { describe, expect, it } from 'vitest';
import { isLevelGitError } from '../../src/errors.js';
import type { OutboundFetch } from '../../src/platform/types.js';
import { addressKind, admit, parseRemoteUrl } from '../../src/remote/guard.js';
import { remoteRequest } from '../../src/remote/http-client.js';

describe('addressKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['8.8.8.8', 'public'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'private'],
    ['fc12:3456::1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.1.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2606:4700::1111', 'public'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
    ['not-an-address', 'invalid'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });

  it('admit refuses when any resolved address is not public, unless private targets are allowed', () => {
    expect(() => admit('h', ['8.8.8.8', '10.0.0.1'], false)).toThrow(/private/);
    expect(() => admit('h', ['8.8.8.8', '2606:4700::1111'], false)).not.toThrow();
    expect(() => admit('h', ['127.0.0.1'], true)).not.toThrow();
  });
});

describe('parseRemoteUrl', () => {
  it('accepts http(s), moves credentials out of the URL, refuses other schemes and literal private hosts', () => {
    const t = parseRemoteUrl('https://user:p%40ss@example.com/a/b.git#frag', false);
    expect(t.url.href).toBe('https://example.com/a/b.git');
    expect(t).toMatchObject({ username: 'user', password: 'p@ss' });
    for (const bad of ['file:///etc/passwd', 'ssh://example.com/x', 'git://example.com/x', 'ftp://example.com/']) {
      expect(() => parseRemoteUrl(bad, true)).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN_TARGET' }));
    }
    for (const bad of ['http://127.0.0.1/', 'http://[::1]/', 'http://0x7f000001/', 'http://2130706433/', 'http://10.0.0.1/']) {
      expect(() => parseRemoteUrl(bad, false), bad).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN_TARGET' }));
      expect(() => parseRemoteUrl(bad, true)).not.toThrow();
    }
    expect(() => parseRemoteUrl('not a url', false)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

/** A fake network: answers by URL; records what each request carried. */
function fakeNet(answers: Record<string, { status: number; location?: string } | 'hang'>) {
  const seen: { url: string; auth?: string }[] = [];
  const outbound: OutboundFetch = async (url, req, check) => {
    seen.push({ url: url.href, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    // The fake resolves every name to a public address except names starting with "internal".
    check(url.hostname, [url.hostname.startsWith('internal') ? '10.0.0.7' : '93.184.216.34']);
    const a = answers[url.href];
    if (a === 'hang')
      return new Promise((_, reject) => req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    if (a === undefined) throw new Error(`unexpected ${url.href}`);
    return {
      status: a.status,
      header: (n) => (n === 'location' ? (a.location ?? null) : null),
      body: (async function* () {
        yield new Uint8Array([1]);
      })(),
    };
  };
  return { outbound, seen };
}

describe('remoteRequest', () => {
  it('follows a GET redirect to an allowed target, with credentials only on the first origin', async () => {
    const net = fakeNet({
      'https://a.example/x': { status: 302, location: '/y' },
      'https://a.example/y': { status: 301, location: 'https://b.example/z' },
      'https://b.example/z': { status: 200 },
    });
    const res = await remoteRequest(
      new URL('https://a.example/x'),
      { method: 'GET' },
      { outbound: net.outbound, credentials: { username: 'u', password: 'p' } },
    );
    expect(res.status).toBe(200);
    expect(res.url.href).toBe('https://b.example/z');
    expect(net.seen.map((s) => s.auth !== undefined)).toEqual([true, true, false]);
  });

  it('refuses a redirect to a private address or another scheme', async () => {
    const toPrivate = fakeNet({ 'https://a.example/x': { status: 302, location: 'http://169.254.169.254/latest' } });
    await expect(remoteRequest(new URL('https://a.example/x'), { method: 'GET' }, { outbound: toPrivate.outbound })).rejects.toMatchObject({
      code: 'ERR_FORBIDDEN_TARGET',
    });
    const toName = fakeNet({ 'https://a.example/x': { status: 302, location: 'https://internal.example/' } });
    await expect(remoteRequest(new URL('https://a.example/x'), { method: 'GET' }, { outbound: toName.outbound })).rejects.toMatchObject({
      code: 'ERR_FORBIDDEN_TARGET',
    });
    const toFile = fakeNet({ 'https://a.example/x': { status: 302, location: 'file:///etc/passwd' } });
    await expect(remoteRequest(new URL('https://a.example/x'), { method: 'GET' }, { outbound: toFile.outbound })).rejects.toMatchObject({
      code: 'ERR_FORBIDDEN_TARGET',
    });
  });

  it('types failures: 401 as ERR_REMOTE_AUTH, 500 as ERR_REMOTE, a hang as ERR_REMOTE_TIMEOUT', async () => {
    const net = fakeNet({ 'https://a.example/401': { status: 401 }, 'https://a.example/500': { status: 500 }, 'https://a.example/hang': 'hang' });
    const o = { outbound: net.outbound, timeoutMs: 20 };
    await expect(remoteRequest(new URL('https://a.example/401'), { method: 'GET' }, o)).rejects.toMatchObject({
      code: 'ERR_REMOTE_AUTH',
      details: { status: 401 },
    });
    await expect(remoteRequest(new URL('https://a.example/500'), { method: 'GET' }, o)).rejects.toMatchObject({ code: 'ERR_REMOTE', details: { status: 500 } });
    const err = await remoteRequest(new URL('https://a.example/hang'), { method: 'GET' }, o).catch((e: unknown) => e);
    expect(isLevelGitError(err, 'ERR_REMOTE_TIMEOUT')).toBe(true);
  });
});
