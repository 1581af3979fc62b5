/**
 * Protocol v2 command requests (gitprotocol-v2 "Command Request"):
 *
 *   request      = command-line *capability-line [delim-pkt *argument-line] flush-pkt
 *   command-line = PKT-LINE("command=" key LF)
 *
 * The arguments are left as text for the command's own parser (ls-refs.ts, fetch-request.ts).
 */
import { LimitExceededError, ProtocolError } from '../errors.js';
import { DEFAULT_UPLOAD_PACK_LIMITS, type UploadPackLimits } from './limits.js';
import { type PktReader, pktText } from './pkt-line.js';

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

/** Refuses an `object-format=` capability other than sha1 (C git: "mismatched object format"). */
export function checkObjectFormat(capabilities: readonly string[]): void {
  for (const c of capabilities) {
    if (c.startsWith('object-format=') && c !== 'object-format=sha1') throw new ProtocolError(`unsupported ${c}`);
  }
}
