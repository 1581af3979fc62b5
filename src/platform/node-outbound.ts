/**
 * Outbound HTTP on Node (`Platform.outbound`): `node:http`/`node:https` with a `lookup` that
 * resolves the host once, hands every address to the caller's check, and connects only to
 * the addresses it accepted, so a DNS answer that changes between the check and the connect
 * (rebinding) cannot reach another address. TLS still verifies the certificate against the
 * host name. The modules come from `process.getBuiltinModule` on first use (no `node:` import
 * in a browser bundle's graph); where the runtime has none, `undefined`.
 */
import type * as NodeHttp from 'node:http';
import type * as NodeDns from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressCheck, OutboundFetch, OutboundRequest, OutboundResponse } from './types.js';

type Modules = { http: typeof NodeHttp; https: typeof NodeHttp; dns: typeof NodeDns };

let modules: Modules | undefined;

function load(): Modules | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  modules ??= { http: get('node:http') as typeof NodeHttp, https: get('node:https') as typeof NodeHttp, dns: get('node:dns') as typeof NodeDns };
  return modules;
}

/** The checked lookup: one resolution, every address judged, only those connected to. */
function checkedLookup(dns: typeof NodeDns, check: AddressCheck): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      try {
        if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
        check(
          hostname,
          addresses.map((a) => a.address),
        );
      } catch (e) {
        return callback(e as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: NodeDns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Node's outbound fetch, or undefined where the runtime does not hand out its modules. */
export function nodeOutbound(): OutboundFetch | undefined {
  if (load() === undefined) return undefined;
  return (url: URL, request: OutboundRequest, check: AddressCheck): Promise<OutboundResponse> => {
    const m = load()!;
    const lib = url.protocol === 'https:' ? m.https : m.http;
    const body = request.body;
    const whole = body instanceof Uint8Array ? body : undefined;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method: request.method,
          headers: { ...request.headers, ...(whole ? { 'content-length': String(whole.length) } : {}) },
          lookup: checkedLookup(m.dns, check),
          signal: request.signal,
          agent: false, // a fresh connection each time: a pooled socket would skip the lookup
        },
        (res) => {
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
            body: (async function* () {
              for await (const chunk of res) yield chunk as Uint8Array;
            })(),
          });
        },
      );
      req.on('error', reject);
      if (body === undefined || whole !== undefined) req.end(whole === undefined ? undefined : Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength));
      else pump(req, body as AsyncIterable<Uint8Array>).catch((err) => req.destroy(err as Error));
    });
  };
}

/**
 * Writes a streamed body (chunked transfer encoding) as the socket takes it: the next chunk is
 * pulled only after the previous one drained, so memory holds about one chunk whatever the
 * body's size. Stops pulling (and closes the source) once the request is gone.
 */
async function pump(req: NodeHttp.ClientRequest, body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    if (req.destroyed) return;
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (!req.destroyed) req.end();
}
