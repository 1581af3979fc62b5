/**
 * receive-pack: the server side of push (protocol v0/v1 only; git pushes with v0 even when it
 * fetches with v2). Grammar (gitprotocol-pack, "Reference Update Request and Packfile Transfer"):
 *
 *   advertisement  = ["# service=git-receive-pack" LF flush-pkt] ["version 1" LF]
 *                    (first-ref *other-ref / no-refs) flush-pkt
 *   update-request = *shallow-line command-list [push-options] [packfile]
 *   command-list   = PKT-LINE(command NUL capability-list LF) *PKT-LINE(command LF) flush-pkt
 *   command        = old-id SP new-id SP refname
 *   push-options   = *PKT-LINE(option LF) flush-pkt          ; only with the push-options capability
 *   packfile       = raw pack bytes, absent when every command is a delete
 *
 *   report-status  = PKT-LINE("unpack " ("ok" / error) LF) *(PKT-LINE("ok " refname LF)
 *                    / PKT-LINE("ng " refname SP reason LF)) flush-pkt
 *
 * With side-band-64k the whole report (its pkt-lines and flush) travels as channel-1 data,
 * followed by a flush.
 */
import { LevelGitError, LimitExceededError, ProtocolError } from '../errors.js';
import { isOid, ZERO_OID, type Oid } from '../object/oid.js';
import { concat } from '../platform/bytes.js';
import { preparePackReader } from '../pack/read-pack-auto.js';
import type { GitBackend, ReceiveOptions, ReceiveResult, RefCommand, RefUpdateInfo } from './backend.js';
import { parseCapabilities, RECEIVE_PACK_CAPABILITIES } from './capabilities.js';
import { encodePktLine, FLUSH_PKT, PktReader, pktText } from './pkt-line.js';
import { encodeProgress, encodeSideband } from './sideband.js';
import { encodeRefAdvertisement } from './advertisement.js';

/** Limits of one push request (the pack's own limits belong to the pack reader). */
export interface ReceivePackLimits {
  /** Most ref update commands. */
  maxCommands: number;
  /** Most push options. */
  maxPushOptions: number;
  /** Most `shallow` lines before the commands. */
  maxShallows: number;
}

/** Defaults for `ReceivePackLimits`. */
export const DEFAULT_RECEIVE_PACK_LIMITS: ReceivePackLimits = { maxCommands: 10_000, maxPushOptions: 100, maxShallows: 10_000 };

/** The v0/v1 receive-pack advertisement. */
export async function advertiseReceivePack(backend: GitBackend, options: { http?: boolean; version1?: boolean } = {}): Promise<Uint8Array[]> {
  // A push follows: its pack reader's thread starts while the client makes the pack.
  preparePackReader();
  const refs = (await backend.listRefs()).filter((r) => r.name !== 'HEAD');
  return encodeRefAdvertisement(refs, RECEIVE_PACK_CAPABILITIES, {
    service: options.http ? 'git-receive-pack' : undefined,
    version1: options.version1,
    peel: false,
    emptyCapabilitiesLine: true,
  });
}

/** A parsed push request (without its pack). */
export interface ParsedPush {
  commands: RefCommand[];
  capabilities: Map<string, string>;
  pushOptions: string[];
  /** `shallow` lines the client sent (a push from a shallow clone); informational. */
  shallows: Oid[];
}

function parseCommand(line: string): RefCommand {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (a !== 40 || b !== 81) throw new ProtocolError(`malformed command ${JSON.stringify(line.slice(0, 100))}`);
  const oldOid = line.slice(0, 40);
  const newOid = line.slice(41, 81);
  const ref = line.slice(82);
  if (!isOid(oldOid) || !isOid(newOid)) throw new ProtocolError(`malformed object id in command ${JSON.stringify(line.slice(0, 100))}`);
  if (ref === '' || /[\0-\x20\x7f]/.test(ref)) throw new ProtocolError(`malformed ref name in command ${JSON.stringify(line.slice(0, 100))}`);
  return { oldOid, newOid, ref };
}

/** Reads the commands and push options of a push; the reader is left at the first pack byte. */
export async function readPushRequest(
  reader: PktReader,
  limits: Partial<ReceivePackLimits> = {},
  out: ParsedPush = { commands: [], capabilities: new Map(), pushOptions: [], shallows: [] },
): Promise<ParsedPush | null> {
  const l = { ...DEFAULT_RECEIVE_PACK_LIMITS, ...limits };
  const refs = new Set<string>();
  for (;;) {
    const p = await reader.read();
    if (p.type === 'flush') break;
    if (p.type === 'end') {
      if (out.commands.length === 0 && out.shallows.length === 0) return null;
      throw new ProtocolError('request ends before the flush after the commands');
    }
    if (p.type !== 'data') throw new ProtocolError(`unexpected ${p.type} packet`);
    let line = pktText(p.data);
    if (out.commands.length === 0 && line.startsWith('shallow ')) {
      if (out.shallows.length >= l.maxShallows) throw new LimitExceededError(`more than ${l.maxShallows} shallow lines`);
      const oid = line.slice(8);
      if (!isOid(oid)) throw new ProtocolError('malformed shallow line');
      out.shallows.push(oid);
      continue;
    }
    if (out.commands.length === 0) {
      const nul = line.indexOf('\0');
      if (nul >= 0) {
        out.capabilities = parseCapabilities(line.slice(nul + 1));
        line = line.slice(0, nul);
      }
    }
    if (out.commands.length >= l.maxCommands) throw new LimitExceededError(`more than ${l.maxCommands} ref updates`);
    const cmd = parseCommand(line);
    if (refs.has(cmd.ref)) throw new ProtocolError(`ref ${cmd.ref} updated twice`);
    refs.add(cmd.ref);
    out.commands.push(cmd);
  }
  if (out.commands.length === 0) {
    if (out.shallows.length > 0) throw new ProtocolError('push request has no commands');
    return null;
  }
  const format = out.capabilities.get('object-format');
  if (format !== undefined && format !== 'sha1') throw new ProtocolError(`unsupported object-format=${format}`);
  if (out.capabilities.has('push-options')) {
    for (;;) {
      const p = await reader.read();
      if (p.type === 'flush') break;
      if (p.type !== 'data') throw new ProtocolError('push options must end with a flush-pkt');
      if (out.pushOptions.length >= l.maxPushOptions) throw new LimitExceededError(`more than ${l.maxPushOptions} push options`);
      out.pushOptions.push(pktText(p.data));
    }
  }
  return out;
}

/** Encodes a report-status message (`unpack`, then `ok`/`ng` per ref, then flush); sideband-wrapped when asked. */
export function encodeReportStatus(result: ReceiveResult, options: { sideband: boolean }): Uint8Array[] {
  const lines: Uint8Array[] = [encodePktLine(result.unpackError ? `unpack ${oneLine(result.unpackError)}` : 'unpack ok')];
  for (const r of result.results) {
    lines.push(encodePktLine(r.ok ? `ok ${r.ref}` : `ng ${r.ref} ${oneLine(r.reason ?? 'failed')}`));
  }
  lines.push(FLUSH_PKT);
  if (!options.sideband) return lines;
  // Downgraded fsck findings go first on the progress channel, as git's receive-pack prints them.
  const warnings = (result.warnings ?? []).flatMap((w) => encodeProgress(`warning: ${oneLine(w)}\n`));
  return [...warnings, ...encodeSideband(1, concat(lines)), FLUSH_PKT];
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim() || 'failed';
}

/** Options of a push. */
export interface ReceivePackOptions {
  limits?: Partial<ReceivePackLimits>;
  /** Ref policy from the access layer; refuses single updates with a reason. */
  policy?: (update: RefUpdateInfo) => string | null;
  /** Most pkt-lines before the pack. */
  maxPackets?: number;
}

/**
 * Serves one receive-pack POST: parses the commands, hands the pack stream to the backend, and
 * returns the report. The backend consumes the pack while this awaits, so nothing is buffered.
 */
export async function serveReceivePack(backend: GitBackend, body: AsyncIterable<Uint8Array>, options: ReceivePackOptions = {}): Promise<Uint8Array[]> {
  const reader = new PktReader(body, { maxPackets: options.maxPackets ?? 100_000 });
  const parsed: ParsedPush = { commands: [], capabilities: new Map(), pushOptions: [], shallows: [] };
  const wantsReport = () => parsed.capabilities.has('report-status') || parsed.capabilities.has('report-status-v2');
  try {
    const push = await readPushRequest(reader, options.limits, parsed);
    if (!push) return [];
    const allDeletes = push.commands.every((c) => c.newOid === ZERO_OID);
    const receiveOptions: ReceiveOptions = { atomic: push.capabilities.has('atomic'), pushOptions: push.pushOptions };
    if (options.policy) receiveOptions.policy = options.policy;
    const result = await backend.receive(push.commands, allDeletes ? null : reader.rest(), receiveOptions);
    if (allDeletes) await reader.close();
    if (!wantsReport()) return [];
    return encodeReportStatus(result, { sideband: parsed.capabilities.has('side-band-64k') });
  } catch (err) {
    // A client that asked for a status report (in a side-band) reads a bare ERR line as a
    // broken band ("bad band #69"): once its commands are known, refuse them in its report.
    if (!(err instanceof LevelGitError) || parsed.commands.length === 0 || !wantsReport()) throw err;
    const reason = err.message;
    const refused: ReceiveResult = { unpackError: reason, results: parsed.commands.map((c) => ({ ref: c.ref, ok: false, reason })) };
    return encodeReportStatus(refused, { sideband: parsed.capabilities.has('side-band-64k') });
  }
}
