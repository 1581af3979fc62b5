/**
 * upload-pack: the server side of fetch and clone. This file only orchestrates; each wire
 * message has its own module:
 *
 *   advertisement.ts    v0/v1 ref advertisement, v2 capability advertisement
 *   v2-command.ts       v2 command framing (`command=`, capabilities, delim, arguments)
 *   ls-refs.ts          v2 `ls-refs`
 *   fetch-request.ts    fetch arguments, one rule each, fed by v2 `fetch` and v0/v1 bodies
 *   acknowledgments.ts  ACK/NAK, `ready`, shallow updates (both versions)
 *   sideband.ts         the pack on channel 1, progress on 2, fatal errors on 3
 *
 * Every want is checked with `GitBackend.invalidWants` before anything is computed. A request
 * without wants is answered with nothing, as C git does. Nothing here writes `0002`
 * (response-end): HTTP clients add it themselves.
 */
import { LevelGitError, LimitExceededError, ProtocolError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import type { FetchRequest, FetchResponse, GitBackend } from './backend.js';
import {
  ackMode,
  encodeV0Acks,
  encodeV0ShallowUpdate,
  encodeV2Acknowledgments,
  encodeV2PackfileHeader,
  encodeV2ShallowInfo,
  type ShallowUpdate,
} from './acknowledgments.js';
import { parseFetchArgs, readV0FetchRequest } from './fetch-request.js';
import { uploadPackLimits, type UploadPackLimits } from './limits.js';
import { lsRefs, parseLsRefsArgs } from './ls-refs.js';
import { FLUSH_PKT, PktReader } from './pkt-line.js';
import { packProgress } from './progress.js';
import { MAX_SIDEBAND_PAYLOAD, MAX_SIDEBAND_SMALL_PAYLOAD, SidebandAbort, sidebandParts } from './sideband.js';
import { checkObjectFormat, readV2Command } from './v2-command.js';
import { WalkBudget } from './walk-budget.js';

export { advertiseUploadPack, advertiseV2 } from './advertisement.js';
export { DEFAULT_UPLOAD_PACK_LIMITS, type UploadPackLimits } from './limits.js';

/** A response being produced: bytes to send, in order. */
export type ByteStream = AsyncIterable<Uint8Array>;

/** Options of an upload-pack request. */
export interface UploadPackOptions {
  limits?: Partial<UploadPackLimits>;
}

async function* fromArray(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

async function checkWants(backend: GitBackend, wants: readonly Oid[], l: UploadPackLimits, walk: WalkBudget): Promise<void> {
  if (wants.length > l.maxNonTipWants) {
    // Only then are the tips read: the count decides before any reachability walk starts.
    const tips = new Set<Oid>();
    for (const r of await backend.listRefs()) {
      if (r.oid) tips.add(r.oid);
      if (r.peeled) tips.add(r.peeled);
    }
    const nonTip = wants.reduce((n, w) => (tips.has(w) ? n : n + 1), 0);
    if (nonTip > l.maxNonTipWants) {
      throw new LimitExceededError(`${nonTip} wants are not ref tips, more than the ${l.maxNonTipWants} allowed`, { details: { limit: l.maxNonTipWants } });
    }
  }
  const bad = await backend.invalidWants(wants, walk);
  if (bad.length > 0) {
    throw new ProtocolError(`upload-pack: not our ref ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`, { details: { invalidWants: bad } });
  }
}

/** Keeps the haves the server has, in the client's order. */
async function commonHaves(backend: GitBackend, haves: readonly Oid[]): Promise<Oid[]> {
  if (haves.length === 0) return [];
  const have = await backend.hasObjects(haves);
  return haves.filter((h) => have.has(h));
}

/** Whether the client may stop sending haves: every want reaches a common commit (see GitBackend.readyToSend). */
async function isReady(backend: GitBackend, wants: readonly Oid[], common: readonly Oid[], walk: WalkBudget): Promise<boolean> {
  if (common.length === 0) return false;
  return backend.readyToSend ? backend.readyToSend(wants, common, walk) : true;
}

function errorText(err: unknown): string {
  if (err instanceof LevelGitError) return err.message;
  return 'internal server error';
}

/**
 * Streams a pack inside side-band channel 1 (headers beside views of the pack's chunks, no
 * copy), with progress on channel 2 unless the client said `no-progress`; a failure mid-stream
 * becomes a channel-3 message and ends the stream.
 */
async function* sidebandPack(pack: ByteStream, maxPayload: number, progress: boolean): AsyncGenerator<Uint8Array> {
  const p = progress ? packProgress(pack) : undefined;
  try {
    yield* sidebandParts(p?.pack ?? pack, { maxPayload, onError: (e) => `upload-pack: ${errorText(e)}`, ...(p ? { progress: p.take } : {}) });
  } catch (err) {
    if (err instanceof SidebandAbort) return;
    throw err;
  }
  yield FLUSH_PKT;
}

/**
 * Serves one v2 request (ls-refs or fetch). Parses and validates everything, asks the backend
 * for the pack, and only then returns the response stream: errors up to that point are thrown
 * (ProtocolError, LimitExceededError, the backend's errors) so the caller can still choose a status.
 */
export async function serveUploadPackV2(backend: GitBackend, body: ByteStream, options: UploadPackOptions = {}): Promise<ByteStream> {
  const l = uploadPackLimits(options.limits);
  const walk = new WalkBudget(l);
  const reader = new PktReader(body, { maxPackets: l.maxPackets });
  const cmd = await readV2Command(reader, l);
  if (!cmd) return fromArray([]);
  if (cmd.command === 'ls-refs') return fromArray(await lsRefs(backend, parseLsRefsArgs(cmd.args, l)));
  if (cmd.command !== 'fetch') {
    throw new ProtocolError(`unknown command ${JSON.stringify(cmd.command.slice(0, 64))}`);
  }
  checkObjectFormat(cmd.capabilities);
  const parsed = parseFetchArgs(cmd.args, l);
  const req = parsed.request;
  if (req.wants.length === 0) return fromArray([]);
  await checkWants(backend, req.wants, l, walk);
  const common = await commonHaves(backend, req.haves);
  const head: Uint8Array[] = [];
  if (!parsed.done) {
    const ready = !parsed.waitForDone && (await isReady(backend, req.wants, common, walk));
    head.push(...encodeV2Acknowledgments(common, ready));
    if (!ready) return fromArray(head);
  }
  const res = await backend.fetch({ ...req, haves: common, walk });
  if (parsed.deepen || req.clientShallows.length > 0) head.push(...encodeV2ShallowInfo(res));
  head.push(encodeV2PackfileHeader());
  return (async function* () {
    yield* head;
    yield* sidebandPack(res.pack, MAX_SIDEBAND_PAYLOAD, !parsed.noProgress);
  })();
}

/** Serves one v0/v1 upload-pack POST (stateless RPC). Throws before the response starts, like `serveUploadPackV2`. */
export async function serveUploadPackV0(backend: GitBackend, body: ByteStream, options: UploadPackOptions = {}): Promise<ByteStream> {
  const l = uploadPackLimits(options.limits);
  const walk = new WalkBudget(l);
  const reader = new PktReader(body, { maxPackets: l.maxPackets });
  const parsed = await readV0FetchRequest(reader, l);
  if (!parsed) return fromArray([]);
  const req = parsed.request;
  const caps = parsed.capabilities;
  await checkWants(backend, req.wants, l, walk);
  const common = await commonHaves(backend, req.haves);
  const head: Uint8Array[] = [];
  // The shallow section is computed from the same request whether or not a pack follows.
  const backendReq: FetchRequest = { ...req, haves: common, walk };
  let res: FetchResponse | null = null;
  let info: ShallowUpdate | null = null;
  if (parsed.done) info = res = await backend.fetch(backendReq);
  else if (parsed.deepen) info = backend.shallowInfo ? await backend.shallowInfo(backendReq) : await shallowOnly(backend, backendReq);
  if (parsed.deepen && info) head.push(...encodeV0ShallowUpdate(info));
  if (parsed.wantsOnly) return fromArray(head);
  const mode = ackMode(caps);
  // End of a negotiation round: say whether the client may stop sending haves.
  const ready = !parsed.done && mode === 'multi_ack_detailed' && (await isReady(backend, req.wants, common, walk));
  head.push(...encodeV0Acks(common, mode, { done: parsed.done, ready }));
  if (!res) return fromArray(head);
  const pack = res.pack;
  const band = caps.has('side-band-64k') ? MAX_SIDEBAND_PAYLOAD : caps.has('side-band') ? MAX_SIDEBAND_SMALL_PAYLOAD : 0;
  return (async function* () {
    yield* head;
    if (band > 0) yield* sidebandPack(pack, band, !parsed.noProgress);
    else yield* pack;
  })();
}

/**
 * The shallow lists of a fetch from a backend without `shallowInfo`: builds the answer, then
 * starts and closes its pack stream (a generator closed before its first `next()` would never
 * run its cleanup).
 */
async function shallowOnly(backend: GitBackend, req: FetchRequest): Promise<ShallowUpdate> {
  const res = await backend.fetch(req);
  const it = res.pack[Symbol.asyncIterator]();
  try {
    await it.next();
  } finally {
    await it.return?.();
  }
  return { shallow: res.shallow, unshallow: res.unshallow };
}
