/**
 * The v2 `ls-refs` command (gitprotocol-v2 "ls-refs"):
 *
 *   arguments = "symrefs" / "peel" / "unborn" / "ref-prefix " prefix
 *   output    = *PKT-LINE((oid / "unborn") SP refname *(SP ref-attribute) LF) flush-pkt
 *   attribute = "symref-target:" symref-target / "peeled:" oid
 */
import { LimitExceededError, ProtocolError } from '../errors.js';
import type { GitBackend } from './backend.js';
import { DEFAULT_UPLOAD_PACK_LIMITS, type UploadPackLimits } from './limits.js';
import { encodePktLine, FLUSH_PKT } from './pkt-line.js';

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
