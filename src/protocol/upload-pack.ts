/**
 * upload-pack: the server side of fetch and clone.
 *
 * Protocol v2 (gitprotocol-v2, "Command Request", "ls-refs", "fetch"):
 *
 *   request       = command-line *capability-line [delim-pkt *argument-line] flush-pkt
 *   command-line  = PKT-LINE("command=" ("ls-refs" / "fetch") LF)
 *   ls-refs args  = "symrefs" / "peel" / "unborn" / "ref-prefix " prefix
 *   fetch args    = "want " oid / "have " oid / "done" / "thin-pack" / "no-progress" / "include-tag"
 *                 / "ofs-delta" / "shallow " oid / "deepen " depth / "deepen-relative"
 *                 / "deepen-since " timestamp / "deepen-not " ref / "filter " spec / "wait-for-done"
 *   fetch output  = [acknowledgments] [shallow-info] packfile   ; sections separated by delim-pkt
 *
 * Protocol v0/v1 over stateless HTTP (gitprotocol-pack, gitprotocol-http):
 *
 *   advertisement = PKT-LINE("# service=git-upload-pack" LF) flush-pkt
 *                   ["version 1" LF] (first-ref *other-ref / no-refs) flush-pkt
 *   first-ref     = PKT-LINE(oid SP name NUL capability-list LF)
 *   no-refs       = PKT-LINE(zero-id SP "capabilities^{}" NUL capability-list LF)
 *   request       = want-list *shallow-line [depth-request] [filter-request] flush-pkt
 *                   *have-line (flush-pkt / PKT-LINE("done" LF) / end-of-body)
 *   response      = [*shallow-update flush-pkt] *ack-line (NAK / ACK) [packfile]
 *
 * Every want is checked with `GitBackend.invalidWants` before anything is computed.
 * Nothing here writes `0002` (response-end): HTTP clients add it themselves.
 */
import { LevelGitError, LimitExceededError, ProtocolError } from '../errors.js';
import { isOid, type Oid } from '../object/oid.js';
import type { AdvertisedRef, FetchRequest, FetchResponse, GitBackend, ObjectFilter } from './backend.js';
import { parseCapabilities, UPLOAD_PACK_V0_CAPABILITIES, V2_CAPABILITIES } from './capabilities.js';
import { DELIM_PKT, encodePkt, encodePktLine, FLUSH_PKT, PktReader, pktText } from './pkt-line.js';
import { MAX_SIDEBAND_PAYLOAD, MAX_SIDEBAND_SMALL_PAYLOAD, SidebandAbort, sidebandStream } from './sideband.js';

/** Limits of one upload-pack request. */
export interface UploadPackLimits {
  /** Most pkt-lines in one request. */
  maxPackets: number;
  /** Most `want` lines. */
  maxWants: number;
  /** Most `have` lines. */
  maxHaves: number;
  /** Most `shallow` lines. */
  maxShallows: number;
  /** Most `ref-prefix` / `deepen-not` arguments. */
  maxPrefixes: number;
  /** Largest `deepen` value accepted. */
  maxDepth: number;
}

/** Defaults: well above what git sends (it sends haves in rounds of at most a few hundred). */
export const DEFAULT_UPLOAD_PACK_LIMITS: UploadPackLimits = {
  maxPackets: 200_000,
  maxWants: 20_000,
  maxHaves: 100_000,
  maxShallows: 100_000,
  maxPrefixes: 1_000,
  maxDepth: 2_147_483_647,
};

/** A response being produced: bytes to send, in order. */
export type ByteStream = AsyncIterable<Uint8Array>;

async function* fromArray(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

function limits(l?: Partial<UploadPackLimits>): UploadPackLimits {
  return { ...DEFAULT_UPLOAD_PACK_LIMITS, ...l };
}

function requireOid(s: string, what: string): Oid {
  if (!isOid(s)) throw new ProtocolError(`${what}: expected a 40-character lower-case hex object id, got ${JSON.stringify(s.slice(0, 64))}`);
  return s;
}

function parseNonNegativeInt(s: string, what: string, max: number): number {
  if (!/^[0-9]{1,10}$/.test(s)) throw new ProtocolError(`${what}: not a number: ${JSON.stringify(s.slice(0, 32))}`);
  const n = Number(s);
  if (n > max) throw new LimitExceededError(`${what} ${n} exceeds ${max}`);
  return n;
}

/** Parses a `filter` spec: `blob:none`, `blob:limit=<n>[kmg]`, `tree:<depth>`. */
export function parseFilterSpec(spec: string): ObjectFilter {
  if (spec === 'blob:none') return { kind: 'blob:none' };
  let m = /^blob:limit=([0-9]{1,15})([kmg]?)$/i.exec(spec);
  if (m) {
    const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
    const limit = Number(m[1]) * mult;
    if (!Number.isSafeInteger(limit)) throw new ProtocolError(`filter ${spec}: limit too large`);
    return { kind: 'blob:limit', limit };
  }
  m = /^tree:([0-9]{1,9})$/.exec(spec);
  if (m) return { kind: 'tree', depth: Number(m[1]) };
  throw new ProtocolError(`unsupported filter ${JSON.stringify(spec.slice(0, 64))} (supported: blob:none, blob:limit=<n>[kmg], tree:<depth>)`);
}

// ---------------------------------------------------------------------------------------------
// Advertisements

/** The v0/v1 ref advertisement. `http` adds the `# service=` preamble; `version1` the `version 1` line. */
export async function advertiseUploadPack(backend: GitBackend, options: { http?: boolean; version1?: boolean } = {}): Promise<Uint8Array[]> {
  const refs = await backend.listRefs();
  return encodeRefAdvertisement(refs, UPLOAD_PACK_V0_CAPABILITIES, { service: options.http ? 'git-upload-pack' : undefined, version1: options.version1, peel: true });
}

/** Encodes a v0/v1 ref advertisement for `refs` (HEAD first when present). Shared with receive-pack. */
export function encodeRefAdvertisement(
  refs: readonly AdvertisedRef[],
  capabilities: readonly string[],
  options: { service?: string; version1?: boolean; peel: boolean },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (options.service) out.push(encodePktLine(`# service=${options.service}`), FLUSH_PKT);
  if (options.version1) out.push(encodePktLine('version 1'));
  const caps = [...capabilities];
  const head = refs.find((r) => r.name === 'HEAD');
  if (head?.symref && head.oid) caps.splice(caps.length - 1, 0, `symref=HEAD:${head.symref}`);
  const capList = caps.join(' ');
  let first = true;
  const line = (oid: string, name: string): void => {
    out.push(encodePkt(first ? `${oid} ${name}\0${capList}\n` : `${oid} ${name}\n`));
    first = false;
  };
  const ordered = head ? [head, ...refs.filter((r) => r !== head)] : refs;
  for (const r of ordered) {
    if (!r.oid) continue;
    line(r.oid, r.name);
    if (options.peel && r.peeled && r.name !== 'HEAD') line(r.peeled, `${r.name}^{}`);
  }
  if (first) line('0'.repeat(40), 'capabilities^{}');
  out.push(FLUSH_PKT);
  return out;
}

/** The v2 capability advertisement (no `# service=` preamble, as git's own server does for v2). */
export function advertiseV2(): Uint8Array[] {
  return [encodePktLine('version 2'), ...V2_CAPABILITIES.map((c) => encodePktLine(c)), FLUSH_PKT];
}

// ---------------------------------------------------------------------------------------------
// Protocol v2

/** One parsed v2 command request. */
export interface V2Command {
  command: string;
  capabilities: string[];
  args: string[];
}

/** Reads one v2 command request; `null` when the body holds no command (a lone flush or nothing). */
export async function readV2Command(reader: PktReader, l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): Promise<V2Command | null> {
  const first = await reader.read();
  if (first.type === 'end' || first.type === 'flush') return null;
  if (first.type !== 'data') throw new ProtocolError(`expected command=, got ${first.type}`);
  const cmdLine = pktText(first.data);
  if (!cmdLine.startsWith('command=')) throw new ProtocolError(`expected command=, got ${JSON.stringify(cmdLine.slice(0, 64))}`);
  const command = cmdLine.slice(8);
  const capabilities: string[] = [];
  const args: string[] = [];
  let inArgs = false;
  for (;;) {
    const p = await reader.read();
    if (p.type === 'flush') break;
    if (p.type === 'end') throw new ProtocolError('request ends before its flush-pkt');
    if (p.type === 'response-end') throw new ProtocolError('unexpected response-end packet in request');
    if (p.type === 'delim') {
      if (inArgs) throw new ProtocolError('more than one delim-pkt in request');
      inArgs = true;
      continue;
    }
    if (reader.packets > l.maxPackets) throw new LimitExceededError(`request has more than ${l.maxPackets} pkt-lines`);
    (inArgs ? args : capabilities).push(pktText(p.data));
  }
  return { command, capabilities, args };
}

/** Parsed arguments of a v2 `ls-refs`. */
export interface LsRefsArgs {
  symrefs: boolean;
  peel: boolean;
  unborn: boolean;
  prefixes: string[];
}

/** Parses `ls-refs` arguments. */
export function parseLsRefsArgs(args: readonly string[], l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): LsRefsArgs {
  const out: LsRefsArgs = { symrefs: false, peel: false, unborn: false, prefixes: [] };
  for (const a of args) {
    if (a === 'symrefs') out.symrefs = true;
    else if (a === 'peel') out.peel = true;
    else if (a === 'unborn') out.unborn = true;
    else if (a.startsWith('ref-prefix ')) {
      if (out.prefixes.length >= l.maxPrefixes) throw new LimitExceededError(`more than ${l.maxPrefixes} ref-prefix arguments`);
      out.prefixes.push(a.slice(11));
    } else throw new ProtocolError(`ls-refs: unexpected argument ${JSON.stringify(a.slice(0, 64))}`);
  }
  return out;
}

/** Answers `ls-refs`. */
export async function lsRefs(backend: GitBackend, args: LsRefsArgs): Promise<Uint8Array[]> {
  const refs = await backend.listRefs(args.prefixes.length > 0 ? args.prefixes : undefined);
  const out: Uint8Array[] = [];
  for (const r of refs) {
    if (args.prefixes.length > 0 && !args.prefixes.some((p) => r.name.startsWith(p))) continue;
    let line: string;
    if (r.oid) line = `${r.oid} ${r.name}`;
    else if (r.name === 'HEAD' && args.unborn) line = `unborn ${r.name}`;
    else continue;
    if (args.symrefs && r.symref) line += ` symref-target:${r.symref}`;
    if (args.peel && r.peeled && r.oid) line += ` peeled:${r.peeled}`;
    out.push(encodePktLine(line));
  }
  out.push(FLUSH_PKT);
  return out;
}

/** A parsed v2 `fetch` (or v0 want/have exchange): the backend request plus negotiation flags. */
export interface ParsedFetch {
  request: FetchRequest;
  done: boolean;
  noProgress: boolean;
  waitForDone: boolean;
  /** The client asked for a deepening (`deepen`, `deepen-since`, `deepen-not`). */
  deepen: boolean;
}

function newFetchRequest(): FetchRequest {
  return { wants: [], haves: [], clientShallows: [], includeTag: false, ofsDelta: false, thinPack: false };
}

function checkDeepenCombination(req: FetchRequest): void {
  if (req.depth !== undefined && (req.deepenSince !== undefined || req.deepenNot !== undefined)) {
    throw new ProtocolError('deepen and deepen-since (or deepen-not) cannot be used together');
  }
}

/** Parses `fetch` arguments (v2). */
export function parseFetchArgs(args: readonly string[], l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): ParsedFetch {
  const req = newFetchRequest();
  const out: ParsedFetch = { request: req, done: false, noProgress: false, waitForDone: false, deepen: false };
  const wants = new Set<Oid>();
  for (const a of args) {
    const sp = a.indexOf(' ');
    const key = sp < 0 ? a : a.slice(0, sp);
    const val = sp < 0 ? '' : a.slice(sp + 1);
    switch (key) {
      case 'want':
        if (wants.size >= l.maxWants) throw new LimitExceededError(`more than ${l.maxWants} wants`);
        wants.add(requireOid(val, 'want'));
        break;
      case 'have':
        if (req.haves.length >= l.maxHaves) throw new LimitExceededError(`more than ${l.maxHaves} haves`);
        req.haves.push(requireOid(val, 'have'));
        break;
      case 'shallow':
        if (req.clientShallows.length >= l.maxShallows) throw new LimitExceededError(`more than ${l.maxShallows} shallow lines`);
        req.clientShallows.push(requireOid(val, 'shallow'));
        break;
      case 'done':
        out.done = true;
        break;
      case 'thin-pack':
        req.thinPack = true;
        break;
      case 'no-progress':
        out.noProgress = true;
        break;
      case 'include-tag':
        req.includeTag = true;
        break;
      case 'ofs-delta':
        req.ofsDelta = true;
        break;
      case 'wait-for-done':
        out.waitForDone = true;
        break;
      case 'deepen':
        req.depth = parseNonNegativeInt(val, 'deepen', l.maxDepth);
        if (req.depth === 0) throw new ProtocolError('deepen 0 is not allowed');
        out.deepen = true;
        break;
      case 'deepen-relative':
        req.deepenRelative = true;
        break;
      case 'deepen-since':
        req.deepenSince = parseNonNegativeInt(val, 'deepen-since', Number.MAX_SAFE_INTEGER);
        out.deepen = true;
        break;
      case 'deepen-not':
        if ((req.deepenNot ??= []).length >= l.maxPrefixes) throw new LimitExceededError(`more than ${l.maxPrefixes} deepen-not lines`);
        if (val === '') throw new ProtocolError('deepen-not needs a ref');
        req.deepenNot.push(val);
        out.deepen = true;
        break;
      case 'filter':
        if (req.filter) throw new ProtocolError('more than one filter');
        req.filter = parseFilterSpec(val);
        break;
      default:
        throw new ProtocolError(`fetch: unexpected argument ${JSON.stringify(a.slice(0, 64))}`);
    }
  }
  req.wants = [...wants];
  checkDeepenCombination(req);
  if (req.deepenRelative && req.depth === undefined) throw new ProtocolError('deepen-relative needs deepen');
  if (req.wants.length === 0) throw new ProtocolError('fetch: no want lines');
  return out;
}

async function checkWants(backend: GitBackend, wants: readonly Oid[]): Promise<void> {
  const bad = await backend.invalidWants(wants);
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
async function isReady(backend: GitBackend, wants: readonly Oid[], common: readonly Oid[]): Promise<boolean> {
  if (common.length === 0) return false;
  return backend.readyToSend ? backend.readyToSend(wants, common) : true;
}

function errorText(err: unknown): string {
  if (err instanceof LevelGitError) return err.message;
  return 'internal server error';
}

/** Streams a pack inside side-band channel 1; a failure mid-stream becomes a channel-3 message and ends the stream. */
async function* sidebandPack(pack: ByteStream, maxPayload: number): AsyncGenerator<Uint8Array> {
  try {
    yield* sidebandStream(pack, { maxPayload, onError: (e) => `upload-pack: ${errorText(e)}` });
  } catch (err) {
    if (err instanceof SidebandAbort) return;
    throw err;
  }
  yield FLUSH_PKT;
}

/** Options of an upload-pack request. */
export interface UploadPackOptions {
  limits?: Partial<UploadPackLimits>;
}

/**
 * Serves one v2 request (ls-refs or fetch). Parses and validates everything, asks the backend
 * for the pack, and only then returns the response stream: errors up to that point are thrown
 * (ProtocolError, LimitExceededError, the backend's errors) so the caller can still choose a status.
 */
export async function serveUploadPackV2(backend: GitBackend, body: ByteStream, options: UploadPackOptions = {}): Promise<ByteStream> {
  const l = limits(options.limits);
  const reader = new PktReader(body, { maxPackets: l.maxPackets });
  const cmd = await readV2Command(reader, l);
  if (!cmd) return fromArray([]);
  if (cmd.command === 'ls-refs') return fromArray(await lsRefs(backend, parseLsRefsArgs(cmd.args, l)));
  if (cmd.command !== 'fetch') throw new ProtocolError(`unknown command ${JSON.stringify(cmd.command.slice(0, 64))}`);
  for (const c of cmd.capabilities) {
    if (c.startsWith('object-format=') && c !== 'object-format=sha1') throw new ProtocolError(`unsupported ${c}`);
  }
  const parsed = parseFetchArgs(cmd.args, l);
  const req = parsed.request;
  await checkWants(backend, req.wants);
  const common = await commonHaves(backend, req.haves);
  const head: Uint8Array[] = [];
  if (!parsed.done) {
    head.push(encodePktLine('acknowledgments'));
    if (common.length === 0) head.push(encodePktLine('NAK'));
    for (const c of common) head.push(encodePktLine(`ACK ${c}`));
    const ready = !parsed.waitForDone && (await isReady(backend, req.wants, common));
    if (!ready) {
      head.push(FLUSH_PKT);
      return fromArray(head);
    }
    head.push(encodePktLine('ready'), DELIM_PKT);
  }
  const res = await backend.fetch({ ...req, haves: common });
  if (parsed.deepen || req.clientShallows.length > 0) {
    head.push(encodePktLine('shallow-info'));
    for (const s of res.shallow) head.push(encodePktLine(`shallow ${s}`));
    for (const s of res.unshallow) head.push(encodePktLine(`unshallow ${s}`));
    head.push(DELIM_PKT);
  }
  head.push(encodePktLine('packfile'));
  return (async function* () {
    yield* head;
    yield* sidebandPack(res.pack, MAX_SIDEBAND_PAYLOAD);
  })();
}

// ---------------------------------------------------------------------------------------------
// Protocol v0/v1 (stateless RPC)

/** A parsed v0/v1 upload-pack request. */
export interface ParsedV0Fetch extends ParsedFetch {
  /** Capabilities from the first want line. */
  capabilities: Map<string, string>;
  /** The body ended right after the want section (a deepen-only round). */
  wantsOnly: boolean;
}

/** Reads a v0/v1 upload-pack request body. */
export async function readV0FetchRequest(reader: PktReader, l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): Promise<ParsedV0Fetch | null> {
  const req = newFetchRequest();
  const wants = new Set<Oid>();
  let capabilities = new Map<string, string>();
  let deepen = false;
  let first = true;
  for (;;) {
    const p = await reader.read();
    if (p.type === 'flush') break;
    if (p.type === 'end') {
      if (first) return null;
      throw new ProtocolError('request ends before the flush after the wants');
    }
    if (p.type !== 'data') throw new ProtocolError(`unexpected ${p.type} packet`);
    const line = pktText(p.data);
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    if (key === 'want') {
      // Capabilities follow the first want's id after a space (older clients: after a NUL).
      let val = line.slice(5);
      if (first) {
        const cut = val.search(/[ \0]/);
        if (cut >= 0) {
          capabilities = parseCapabilities(val.slice(cut + 1).replace(/\0/g, ' '));
          val = val.slice(0, cut);
        }
      }
      if (wants.size >= l.maxWants) throw new LimitExceededError(`more than ${l.maxWants} wants`);
      wants.add(requireOid(val, 'want'));
    } else if (first) {
      throw new ProtocolError(`expected want, got ${JSON.stringify(line.slice(0, 64))}`);
    } else if (key === 'shallow') {
      if (req.clientShallows.length >= l.maxShallows) throw new LimitExceededError(`more than ${l.maxShallows} shallow lines`);
      req.clientShallows.push(requireOid(line.slice(8), 'shallow'));
    } else if (key === 'deepen') {
      req.depth = parseNonNegativeInt(line.slice(7), 'deepen', l.maxDepth);
      if (req.depth === 0) throw new ProtocolError('deepen 0 is not allowed');
      deepen = true;
    } else if (key === 'deepen-since') {
      req.deepenSince = parseNonNegativeInt(line.slice(13), 'deepen-since', Number.MAX_SAFE_INTEGER);
      deepen = true;
    } else if (key === 'deepen-not') {
      if ((req.deepenNot ??= []).length >= l.maxPrefixes) throw new LimitExceededError(`more than ${l.maxPrefixes} deepen-not lines`);
      req.deepenNot.push(line.slice(11));
      deepen = true;
    } else if (key === 'filter') {
      if (req.filter) throw new ProtocolError('more than one filter');
      req.filter = parseFilterSpec(line.slice(7));
    } else {
      throw new ProtocolError(`unexpected line in want section: ${JSON.stringify(line.slice(0, 64))}`);
    }
    first = false;
  }
  if (wants.size === 0) return null;
  req.wants = [...wants];
  req.thinPack = capabilities.has('thin-pack');
  req.ofsDelta = capabilities.has('ofs-delta');
  req.includeTag = capabilities.has('include-tag');
  if (capabilities.has('deepen-relative')) {
    if (req.depth === undefined) throw new ProtocolError('deepen-relative needs deepen');
    req.deepenRelative = true;
  }
  checkDeepenCombination(req);
  if (req.filter && !capabilities.has('filter')) throw new ProtocolError('filter line without the filter capability');
  const out: ParsedV0Fetch = {
    request: req,
    capabilities,
    done: false,
    noProgress: capabilities.has('no-progress'),
    waitForDone: false,
    deepen,
    wantsOnly: false,
  };
  // Negotiation: have lines, then `done`, a flush (end of a round), or the end of the body.
  for (;;) {
    const p = await reader.read();
    if (p.type === 'end') {
      if (req.haves.length === 0) out.wantsOnly = true;
      break;
    }
    if (p.type === 'flush') {
      continue;
    }
    if (p.type !== 'data') throw new ProtocolError(`unexpected ${p.type} packet`);
    const line = pktText(p.data);
    if (line === 'done') {
      out.done = true;
      break;
    }
    if (!line.startsWith('have ')) throw new ProtocolError(`expected have or done, got ${JSON.stringify(line.slice(0, 64))}`);
    if (req.haves.length >= l.maxHaves) throw new LimitExceededError(`more than ${l.maxHaves} haves`);
    req.haves.push(requireOid(line.slice(5), 'have'));
  }
  return out;
}

/** Serves one v0/v1 upload-pack POST (stateless RPC). Throws before the response starts, like `serveUploadPackV2`. */
export async function serveUploadPackV0(backend: GitBackend, body: ByteStream, options: UploadPackOptions = {}): Promise<ByteStream> {
  const l = limits(options.limits);
  const reader = new PktReader(body, { maxPackets: l.maxPackets });
  const parsed = await readV0FetchRequest(reader, l);
  if (!parsed) return fromArray([]);
  const req = parsed.request;
  const caps = parsed.capabilities;
  await checkWants(backend, req.wants);
  const common = await commonHaves(backend, req.haves);
  const head: Uint8Array[] = [];
  const sendPack = parsed.done;
  // The shallow section is computed from the same request whether or not a pack follows.
  const backendReq: FetchRequest = { ...req, haves: common };
  let res: FetchResponse | null = null;
  let info: Pick<FetchResponse, 'shallow' | 'unshallow'> | null = null;
  if (sendPack) info = res = await backend.fetch(backendReq);
  else if (parsed.deepen) info = backend.shallowInfo ? await backend.shallowInfo(backendReq) : await shallowOnly(backend, backendReq);
  if (parsed.deepen && info) {
    for (const s of info.shallow) head.push(encodePktLine(`shallow ${s}`));
    for (const s of info.unshallow) head.push(encodePktLine(`unshallow ${s}`));
    head.push(FLUSH_PKT);
  }
  if (parsed.wantsOnly) return fromArray(head);
  const detailed = caps.has('multi_ack_detailed');
  const multi = detailed || caps.has('multi_ack');
  for (let i = 0; i < common.length; i++) {
    const c = common[i]!;
    if (detailed) head.push(encodePktLine(`ACK ${c} common`));
    else if (multi) head.push(encodePktLine(`ACK ${c} continue`));
    else if (i === 0) head.push(encodePktLine(`ACK ${c}`));
  }
  if (!sendPack) {
    // End of a negotiation round: say whether the client may stop sending haves.
    if (detailed && (await isReady(backend, req.wants, common))) head.push(encodePktLine(`ACK ${common[common.length - 1]} ready`));
    if (common.length === 0 || multi) head.push(encodePktLine('NAK'));
    return fromArray(head);
  }
  if (common.length > 0) {
    if (multi) head.push(encodePktLine(`ACK ${common[common.length - 1]}`));
  } else {
    head.push(encodePktLine('NAK'));
  }
  const pack = res!.pack;
  const band = caps.has('side-band-64k') ? MAX_SIDEBAND_PAYLOAD : caps.has('side-band') ? MAX_SIDEBAND_SMALL_PAYLOAD : 0;
  return (async function* () {
    yield* head;
    if (band > 0) yield* sidebandPack(pack, band);
    else yield* pack;
  })();
}

/**
 * The shallow lists of a fetch from a backend without `shallowInfo`: builds the answer, then
 * starts and closes its pack stream (a generator closed before its first `next()` would never
 * run its cleanup).
 */
async function shallowOnly(backend: GitBackend, req: FetchRequest): Promise<Pick<FetchResponse, 'shallow' | 'unshallow'>> {
  const res = await backend.fetch(req);
  const it = res.pack[Symbol.asyncIterator]();
  try {
    await it.next();
  } finally {
    await it.return?.();
  }
  return { shallow: res.shallow, unshallow: res.unshallow };
}
