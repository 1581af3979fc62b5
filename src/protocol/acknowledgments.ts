/**
 * The server's side of negotiation: acknowledgments and shallow updates.
 *
 * v2 (gitprotocol-v2 "fetch", output):
 *   acknowledgments = PKT-LINE("acknowledgments" LF) (nak / *ack) [PKT-LINE("ready" LF)]
 *                     ; then flush-pkt when not ready (the round ends), delim-pkt when ready
 *   shallow-info    = PKT-LINE("shallow-info" LF) *shallow-update delim-pkt
 *   packfile        = PKT-LINE("packfile" LF) *sideband-pkt flush-pkt
 *
 * v0/v1 (gitprotocol-pack "Packfile Negotiation"):
 *   shallow-update  = *PKT-LINE(("shallow" / "unshallow") SP oid LF) flush-pkt
 *   round           = *ack-line [ACK oid "ready"] [NAK]      ; by the client's multi_ack mode
 *   final           = ACK oid / NAK                           ; before the pack, after done
 */
import type { Oid } from '../object/oid.js';
import type { FetchResponse } from './backend.js';
import { DELIM_PKT, encodePktLine, FLUSH_PKT } from './pkt-line.js';

/** The shallow boundary changes of a fetch answer. */
export type ShallowUpdate = Pick<FetchResponse, 'shallow' | 'unshallow'>;

/** v0/v1 acknowledgment style the client asked for. */
export type AckMode = 'multi_ack_detailed' | 'multi_ack' | 'single';

/** The acknowledgment style of a v0/v1 client's capabilities. */
export function ackMode(capabilities: ReadonlyMap<string, string>): AckMode {
  if (capabilities.has('multi_ack_detailed')) return 'multi_ack_detailed';
  return capabilities.has('multi_ack') ? 'multi_ack' : 'single';
}

function shallowLines(info: ShallowUpdate): Uint8Array[] {
  return [...info.shallow.map((s) => encodePktLine(`shallow ${s}`)), ...info.unshallow.map((s) => encodePktLine(`unshallow ${s}`))];
}

/** The v2 `acknowledgments` section: ends the response (flush) unless `ready`, then a delim follows. */
export function encodeV2Acknowledgments(common: readonly Oid[], ready: boolean): Uint8Array[] {
  const out = [encodePktLine('acknowledgments')];
  if (common.length === 0) out.push(encodePktLine('NAK'));
  for (const c of common) out.push(encodePktLine(`ACK ${c}`));
  out.push(...(ready ? [encodePktLine('ready'), DELIM_PKT] : [FLUSH_PKT]));
  return out;
}

/** The v2 `shallow-info` section, with its closing delim. */
export function encodeV2ShallowInfo(info: ShallowUpdate): Uint8Array[] {
  return [encodePktLine('shallow-info'), ...shallowLines(info), DELIM_PKT];
}

/** The v2 `packfile` section header (the pack follows on side-band channel 1). */
export function encodeV2PackfileHeader(): Uint8Array {
  return encodePktLine('packfile');
}

/** The v0/v1 shallow update, with its closing flush. */
export function encodeV0ShallowUpdate(info: ShallowUpdate): Uint8Array[] {
  return [...shallowLines(info), FLUSH_PKT];
}

/**
 * The v0/v1 acknowledgments of one request: one line per common commit in the client's
 * style, then either the end of a round (`ready` when the client may stop sending haves,
 * then NAK) or, after `done`, the final ACK or NAK that precedes the pack.
 */
export function encodeV0Acks(common: readonly Oid[], mode: AckMode, end: { done: boolean; ready: boolean }): Uint8Array[] {
  const out: Uint8Array[] = [];
  const multi = mode !== 'single';
  common.forEach((c, i) => {
    if (mode === 'multi_ack_detailed') out.push(encodePktLine(`ACK ${c} common`));
    else if (multi) out.push(encodePktLine(`ACK ${c} continue`));
    else if (i === 0) out.push(encodePktLine(`ACK ${c}`));
  });
  const last = common[common.length - 1];
  if (!end.done) {
    if (mode === 'multi_ack_detailed' && end.ready && last !== undefined) out.push(encodePktLine(`ACK ${last} ready`));
    if (last === undefined || multi) out.push(encodePktLine('NAK'));
  } else if (last === undefined) {
    out.push(encodePktLine('NAK'));
  } else if (multi) {
    out.push(encodePktLine(`ACK ${last}`));
  }
  return out;
}
