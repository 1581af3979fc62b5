/**
 * `repo.fetchFrom`: level-git as a smart-HTTP client of another Git server. Protocol v2 when
 * the server speaks it (`ls-refs`, then one `fetch` with `done`), else v0 (the advertised refs,
 * then one stateless upload-pack request). The pack streams from the response into the
 * repository's ingest (quarantine, fsck, connectivity, the engine's limits); only then do the
 * refs move, in one transaction (source 'fetch'). Haves are the tips already here, so a second
 * fetch of the same remote costs what changed. A shallow fetch's boundary commits are stored
 * without their parents (ingest's `shallow`).
 */
import { InvalidArgumentError, ProtocolError, RemoteError } from '../errors.js';
import { type FsckConfig, fsckConfig } from '../object/fsck.js';
import { type Oid, ZERO_OID } from '../object/oid.js';
import type { RefUpdate } from '../refs/ref-store.js';
import { internalsOf } from '../repo/internals.js';
import { shallowParentOps } from '../repo/shallow.js';
import type { KvOp } from '../storage/kv.js';
import type { Repository } from '../repo/repository.js';
import type { FetchFromOptions, FetchFromResult, FetchProgress } from '../repo/remotes.js';
import { AGENT } from '../protocol/capabilities.js';
import { concat } from '../platform/bytes.js';
import { FLUSH_PKT, type PktReader, encodePkt } from '../protocol/pkt-line.js';
import { parseRemoteUrl } from './guard.js';
import { type Credentials, type RemoteHttpOptions, remoteRequest } from './http-client.js';
import {
  type Advertisement,
  type RemoteRef,
  type ShallowInfo,
  encodeV2Command,
  pktReader,
  readAdvertisement,
  readLsRefs,
  readV0FetchHead,
  readV2FetchHead,
  sidebandData,
} from './smart-http.js';

/** The repository URL without a trailing slash: the base of `info/refs` and the service paths. */
export function serviceBase(url: URL): URL {
  const base = new URL(url.href);
  base.pathname = base.pathname.replace(/\/+$/, '');
  base.search = '';
  return base;
}

function at(base: URL, path: string): URL {
  const u = new URL(base.href);
  u.pathname = `${base.pathname}/${path}`;
  return u;
}

/** `GET info/refs?service=…` (asking for v2 when `v2`): the advertisement and the base of later requests (after redirects). */
export async function discover(
  base: URL,
  service: 'git-upload-pack' | 'git-receive-pack',
  http: RemoteHttpOptions & { credentials?: Credentials },
  v2: boolean,
): Promise<{ adv: Advertisement; base: URL }> {
  const url = at(base, 'info/refs');
  url.search = `?service=${service}`;
  const res = await remoteRequest(url, { method: 'GET', headers: v2 ? { 'git-protocol': 'version=2' } : {} }, http);
  const type = res.header('content-type') ?? '';
  if (!type.startsWith(`application/x-${service}-advertisement`)) {
    for await (const _ of res.body);
    throw new RemoteError('ERR_REMOTE', `${base.origin}${base.pathname} is not a smart-HTTP Git server (content-type ${JSON.stringify(type.slice(0, 80))})`, {
      details: { url: `${base.origin}${base.pathname}` },
    });
  }
  const adv = await readAdvertisement(pktReader(res.body));
  const finalBase = new URL(res.url.href);
  finalBase.pathname = res.url.pathname.replace(/\/info\/refs$/, '');
  finalBase.search = '';
  return { adv, base: finalBase };
}

/** POSTs a service request; the response body as a pkt-line reader. */
export async function post(
  base: URL,
  service: string,
  body: Uint8Array | AsyncIterable<Uint8Array>,
  http: RemoteHttpOptions & { credentials?: Credentials },
  v2: boolean,
) {
  const res = await remoteRequest(
    at(base, service),
    {
      method: 'POST',
      headers: {
        'content-type': `application/x-${service}-request`,
        accept: `application/x-${service}-result`,
        ...(v2 ? { 'git-protocol': 'version=2' } : {}),
      },
      body,
    },
    http,
  );
  return pktReader(res.body);
}

/** The remote refs to fetch: one ref by git's short-name rule, or every branch and tag. */
function selectRefs(refs: readonly RemoteRef[], wanted: string | undefined): RemoteRef[] {
  const heads = refs.filter((r) => r.name.startsWith('refs/heads/') || r.name.startsWith('refs/tags/'));
  if (wanted === undefined) return heads;
  for (const name of [wanted, `refs/tags/${wanted}`, `refs/heads/${wanted}`]) {
    const hit = heads.find((r) => r.name === name);
    if (hit) return [hit];
  }
  throw new InvalidArgumentError(`the remote has no branch or tag ${JSON.stringify(wanted.slice(0, 200))}`, { details: { ref: wanted } });
}

/** The remote's advertisement, its branches, tags and HEAD (v2 `ls-refs`, or the v0 advertisement), and the base of later requests. */
async function listRemote(url: URL, h: RemoteHttpOptions & { credentials?: Credentials }): Promise<{ adv: Advertisement; base: URL; refs: RemoteRef[] }> {
  const { adv, base } = await discover(serviceBase(url), 'git-upload-pack', h, true);
  if (adv.version !== 2) return { adv, base, refs: adv.refs };
  const args = ['symrefs', 'peel', 'ref-prefix HEAD', 'ref-prefix refs/heads/', 'ref-prefix refs/tags/'];
  const ls = await post(base, 'git-upload-pack', encodeV2Command('ls-refs', [`agent=${AGENT}`], args), h, true);
  return { adv, base, refs: await readLsRefs(ls) };
}

/** `git ls-remote` of branches and tags: each ref with its value, and the branch HEAD points at. */
export async function lsRemote(url: string, options: Credentials, http: RemoteHttpOptions): Promise<{ head?: string; refs: { ref: string; oid: Oid }[] }> {
  const target = parseRemoteUrl(url, http.allowPrivate === true);
  const credentials: Credentials = { username: options.username ?? target.username, password: options.password ?? target.password };
  const { refs } = await listRemote(target.url, { ...http, credentials });
  const head = refs.find((r) => r.name === 'HEAD')?.symref;
  return { ...(head !== undefined ? { head } : {}), refs: refs.filter((r) => r.name !== 'HEAD').map((r) => ({ ref: r.name, oid: r.oid })) };
}

/** See the module comment. */
export async function fetchFrom(repo: Repository, url: string, options: FetchFromOptions, http: RemoteHttpOptions): Promise<FetchFromResult> {
  const target = parseRemoteUrl(url, http.allowPrivate === true);
  if (options.depth !== undefined && (!Number.isSafeInteger(options.depth) || options.depth < 1))
    throw new InvalidArgumentError('depth must be a positive integer');
  if (options.ref !== undefined && (typeof options.ref !== 'string' || options.ref === '')) throw new InvalidArgumentError('ref must be a non-empty string');
  const fsck = options.fsck === undefined ? undefined : fsckConfig(options.fsck);
  const credentials: Credentials = { username: options.username ?? target.username, password: options.password ?? target.password };
  const h = { ...http, credentials };
  const { adv, base, refs: remoteRefs } = await listRemote(target.url, h);
  const v2 = adv.version === 2;
  const selected = selectRefs(remoteRefs, options.ref);
  const head = remoteRefs.find((r) => r.name === 'HEAD')?.symref;
  const result: FetchFromResult = { refs: [], shallow: [], objects: 0, added: 0, protocol: v2 ? 2 : 0 };
  if (head !== undefined) result.head = head;
  if (selected.length === 0) return result;

  const internals = internalsOf(repo);
  const objects = internals.objects;
  const wants = [...new Set(selected.map((r) => r.oid))];
  const present = await objects.has(wants);
  const missing = wants.filter((_, i) => !present[i]);
  // One write from the pack to the last ref, so a sweep cannot collect in between; a sweep
  // marker covers the objects if the refs do not land (as a push's receive does).
  await internals.withWrite(async () => {
    const withdraw = missing.length > 0 ? await internals.markSweep() : undefined;
    let shallowOps: KvOp[] = [];
    if (missing.length > 0) {
      const shallow = await fetchPackInto(repo, missing, { adv, base, h, v2, depth: options.depth, fsck, onProgress: options.onProgress });
      result.objects = shallow.objects;
      result.added = shallow.added;
      result.shallow = shallow.shallow;
      shallowOps = await shallowParentOps(objects, shallow.shallow);
    }
    const updates: RefUpdate[] = [];
    for (const r of selected) {
      const current = await repo.refs.get(r.name);
      if (current?.oid === r.oid) continue;
      updates.push({ ref: r.name, oldOid: current?.oid ?? ZERO_OID, newOid: r.oid });
    }
    if (updates.length > 0) await internals.transact(updates, 'fetch', { extraOps: shallowOps });
    await withdraw?.();
  });
  result.refs = selected.map((r) => ({ ref: r.name, oid: r.oid as Oid }));
  if (options.setHead && head?.startsWith('refs/heads/') && selected.some((r) => r.name === head)) await repo.refs.setHead(head.slice('refs/heads/'.length));
  return result;
}

/** Asks for `missing` (v2 `fetch` or a v0 request, with the local tips as haves) and streams the pack into the repository. */
async function fetchPackInto(
  repo: Repository,
  missing: readonly Oid[],
  o: {
    adv: Advertisement;
    base: URL;
    h: RemoteHttpOptions & { credentials?: Credentials };
    v2: boolean;
    depth?: number;
    fsck?: FsckConfig;
    onProgress?: (p: FetchProgress) => void;
  },
): Promise<{ objects: number; added: number; shallow: Oid[] }> {
  const { adv, base, h, v2 } = o;
  const local = await repo.listRefs();
  const haves = [...new Set(local.map(([, v]) => v.oid))].slice(0, 256);
  const depthArgs = o.depth === undefined ? [] : [`deepen ${o.depth}`];
  let reader: PktReader;
  let shallow: ShallowInfo;
  if (v2) {
    const fetchCaps = adv.caps.get('fetch') ?? '';
    if (o.depth !== undefined && !fetchCaps.split(' ').includes('shallow')) throw new RemoteError('ERR_REMOTE', 'the remote does not support shallow fetches');
    const args = [...missing.map((w) => `want ${w}`), ...haves.map((oid) => `have ${oid}`), 'ofs-delta', 'no-progress', ...depthArgs, 'done'];
    reader = await post(base, 'git-upload-pack', encodeV2Command('fetch', [`agent=${AGENT}`], args), h, true);
    shallow = await readV2FetchHead(reader);
  } else {
    if (o.depth !== undefined && !adv.caps.has('shallow')) throw new RemoteError('ERR_REMOTE', 'the remote does not support shallow fetches');
    const caps = ['side-band-64k', 'ofs-delta', 'no-progress', `agent=${AGENT}`].filter((c) => c.startsWith('agent=') || adv.caps.has(c));
    if (!caps.includes('side-band-64k')) throw new ProtocolError('the remote does not offer side-band-64k');
    const lines = [
      ...missing.map((w, i) => encodePkt(i === 0 ? `want ${w} ${caps.join(' ')}\n` : `want ${w}\n`)),
      ...depthArgs.map((a) => encodePkt(`${a}\n`)),
      FLUSH_PKT,
      ...haves.map((oid) => encodePkt(`have ${oid}\n`)),
      encodePkt('done\n'),
    ];
    reader = await post(base, 'git-upload-pack', concat(lines), h, false);
    shallow = await readV0FetchHead(reader);
  }
  // Shallow lines count only when a depth was asked: otherwise the pack must be complete.
  const boundary = o.depth === undefined ? [] : shallow.shallow;
  const progress = o.onProgress === undefined ? undefined : packProgress(o.onProgress);
  const ingested = await internalsOf(repo).ingest(progress === undefined ? sidebandData(reader) : progress.count(sidebandData(reader)), {
    ...(o.fsck === undefined ? {} : { fsck: o.fsck }),
    ...(boundary.length > 0 ? { shallow: new Set(boundary) } : {}),
    ...(progress === undefined ? {} : { onProgress: progress.objects }),
  });
  return { objects: ingested.oids.length, added: ingested.added, shallow: boundary };
}

/** Progress of a pack being received: bytes counted on the way in, the object count from the pack header, objects from ingest. */
function packProgress(report: (p: FetchProgress) => void) {
  const state: FetchProgress = { phase: 'receiving', objects: 0, bytes: 0 };
  const head: number[] = [];
  return {
    async *count(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        state.bytes += chunk.length;
        // "PACK", version, object count (uint32 BE): the first 12 bytes.
        for (let i = 0; head.length < 12 && i < chunk.length; i++) head.push(chunk[i]!);
        if (state.total === undefined && head.length === 12) state.total = ((head[8]! << 24) | (head[9]! << 16) | (head[10]! << 8) | head[11]!) >>> 0;
        report({ ...state });
        yield chunk;
      }
    },
    objects(n: number, phase: 'reading' | 'storing'): void {
      state.objects = n;
      if (phase === 'storing') state.phase = 'storing';
      report({ ...state });
    },
  };
}
