/**
 * The SSRF guard of every outbound request (imports, mirrors, webhooks): only `http:` and
 * `https:` URLs, and by default no loopback, private, link-local, shared (CGNAT), multicast or
 * unspecified address — checked for an address written in the URL here, and for every address
 * a host name resolves to at connect time (platform `outbound`'s lookup calls `admit`).
 * `allowPrivate` (the engine's `allowPrivateRemotes`) lifts the address rule, never the scheme rule.
 */
import { ForbiddenTargetError, InvalidArgumentError } from '../errors.js';

/** A parsed remote: the URL without credentials, and the credentials it carried. */
export interface RemoteTarget {
  url: URL;
  username?: string;
  password?: string;
}

/** Parses and checks a remote URL (scheme; a literal address); credentials in it are moved out of the URL. */
export function parseRemoteUrl(input: unknown, allowPrivate: boolean): RemoteTarget {
  if (typeof input !== 'string' || input.length === 0 || input.length > 4096) throw new InvalidArgumentError('url must be a non-empty string');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidArgumentError('url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ForbiddenTargetError(`only http and https remotes are allowed, not ${url.protocol.replace(/:$/, '')}`, {
      details: { reason: 'scheme' },
    });
  }
  const target: RemoteTarget = { url };
  if (url.username !== '' || url.password !== '') {
    target.username = decodeURIComponent(url.username);
    target.password = decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
  }
  url.hash = '';
  checkHost(url.hostname, allowPrivate);
  return target;
}

/**
 * Refuses a literal address the guard does not allow; host names are judged when resolved (the
 * platform's `outbound`), or by name where nothing resolves them (`byName`: `localhost`).
 */
export function checkHost(hostname: string, allowPrivate: boolean, byName = false): void {
  if (allowPrivate) return;
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (byName && /(^|\.)localhost\.?$/.test(host)) throw refused(host, host, 'loopback');
  if (parseIpv4(host) !== undefined || host.includes(':')) admit(host, [host], false);
}

/** Throws ForbiddenTargetError unless every address is allowed (the platform's lookup calls this). */
export function admit(host: string, addresses: readonly string[], allowPrivate: boolean): void {
  if (allowPrivate) return;
  for (const a of addresses) {
    const kind = addressKind(a);
    if (kind !== 'public') throw refused(host, a, kind);
  }
}

function refused(host: string, address: string, kind: string): ForbiddenTargetError {
  const shown = host === address ? host : `${host} (${address})`;
  return new ForbiddenTargetError(`remote ${shown} is a ${kind} address; set allowPrivateRemotes to allow it`, {
    details: { host, address, reason: kind },
  });
}

/** What kind of address this is: 'public', or why the guard refuses it. Unparsable counts as 'invalid'. */
export function addressKind(address: string): string {
  const a = address
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  const v4 = parseIpv4(a);
  if (v4 !== undefined) return ipv4Kind(v4);
  const v6 = parseIpv6(a);
  if (v6 === undefined) return 'invalid';
  const word = (i: number) => (v6[i * 2]! << 8) | v6[i * 2 + 1]!;
  const zeroUpTo = (n: number) => v6.subarray(0, n).every((b) => b === 0);
  if (zeroUpTo(15) && v6[15] === 0) return 'unspecified';
  if (zeroUpTo(15) && v6[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  const nat64 = word(0) === 0x64 && word(1) === 0xff9b && word(2) === 0 && word(3) === 0 && word(4) === 0 && word(5) === 0;
  if ((zeroUpTo(10) && word(5) === 0xffff) || zeroUpTo(12) || nat64) {
    return ipv4Kind(((v6[12]! << 24) | (v6[13]! << 16) | (v6[14]! << 8) | v6[15]!) >>> 0);
  }
  if ((v6[0]! & 0xfe) === 0xfc) return 'private';
  if (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80) return 'link-local';
  if (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0xc0) return 'private'; // deprecated site-local
  if (v6[0] === 0xff) return 'multicast';
  if (word(0) === 0x2001 && word(1) === 0x0db8) return 'reserved';
  return 'public';
}

function ipv4Kind(v: number): string {
  const in4 = (base: number, bits: number) => v >>> (32 - bits) === base >>> (32 - bits);
  const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if (in4(ip(127, 0, 0, 0), 8)) return 'loopback';
  if (in4(ip(0, 0, 0, 0), 8)) return 'unspecified';
  if (in4(ip(10, 0, 0, 0), 8) || in4(ip(172, 16, 0, 0), 12) || in4(ip(192, 168, 0, 0), 16)) return 'private';
  if (in4(ip(169, 254, 0, 0), 16)) return 'link-local';
  if (in4(ip(100, 64, 0, 0), 10)) return 'shared';
  if (in4(ip(192, 0, 0, 0), 24) || in4(ip(198, 18, 0, 0), 15)) return 'reserved';
  if (in4(ip(224, 0, 0, 0), 4)) return 'multicast';
  if (in4(ip(240, 0, 0, 0), 4)) return 'reserved';
  return 'public';
}

/** Dotted-quad IPv4 as an unsigned 32-bit number (the only form URL parsing leaves). */
function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** IPv6 text (with `::` and an optional trailing dotted quad) as 16 bytes. */
function parseIpv6(s: string): Uint8Array | undefined {
  if (!/^[0-9a-f:.]+$/.test(s) || !s.includes(':')) return undefined;
  let text = s;
  const dot = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dot) {
    const v4 = parseIpv4(dot[1]!);
    if (v4 === undefined) return undefined;
    text = `${s.slice(0, -dot[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (h: string) => (h === '' ? [] : h.split(':').map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN)));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 && fill < 1) return undefined;
  const all = halves.length === 2 ? [...head, ...new Array<number>(fill).fill(0), ...rest] : head;
  if (all.length !== 8 || all.some((w) => !Number.isInteger(w))) return undefined;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}
