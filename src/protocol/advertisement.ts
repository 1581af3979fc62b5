/**
 * Capability and ref advertisements (gitprotocol-pack "Reference Discovery",
 * gitprotocol-v2 "Capability Advertisement"):
 *
 *   v0/v1     = ["# service=" service LF flush-pkt] ["version 1" LF]
 *               (first-ref *other-ref / no-refs) flush-pkt
 *   first-ref = PKT-LINE(oid SP name NUL capability-list LF)
 *   other-ref = PKT-LINE(oid SP name LF) [PKT-LINE(oid SP name "^{}" LF)]   ; peeled tag
 *   no-refs   = PKT-LINE(zero-id SP "capabilities^{}" NUL capability-list LF)
 *   v2        = PKT-LINE("version 2" LF) *PKT-LINE(capability LF) flush-pkt
 *
 * upload-pack and receive-pack share the v0/v1 form; they differ in their capabilities, in
 * peeled lines, and for an empty repository: C git's upload-pack (2.39 `git http-backend`)
 * sends no ref line at all, only the flush, while receive-pack sends `capabilities^{}`.
 */
import type { AdvertisedRef, GitBackend } from './backend.js';
import { UPLOAD_PACK_V0_CAPABILITIES, V2_CAPABILITIES } from './capabilities.js';
import { encodePkt, encodePktLine, FLUSH_PKT } from './pkt-line.js';

/** Options of a v0/v1 ref advertisement. */
export interface RefAdvertisementOptions {
  /** Adds the `# service=<service>` preamble (smart HTTP). */
  service?: string;
  /** Adds the `version 1` line. */
  version1?: boolean;
  /** Adds `<name>^{}` lines for annotated tags. */
  peel: boolean;
  /** With no ref to list: send `capabilities^{}` (receive-pack) or nothing (upload-pack). */
  emptyCapabilitiesLine: boolean;
}

/** The v0/v1 upload-pack ref advertisement. `http` adds the `# service=` preamble; `version1` the `version 1` line. */
export async function advertiseUploadPack(backend: GitBackend, options: { http?: boolean; version1?: boolean } = {}): Promise<Uint8Array[]> {
  const refs = await backend.listRefs();
  return encodeRefAdvertisement(refs, UPLOAD_PACK_V0_CAPABILITIES, {
    service: options.http ? 'git-upload-pack' : undefined,
    version1: options.version1,
    peel: true,
    // C git's upload-pack lists nothing for an empty repository (go-git then reports it empty).
    emptyCapabilitiesLine: false,
  });
}

/** Encodes a v0/v1 ref advertisement for `refs` (HEAD first when present). */
export function encodeRefAdvertisement(refs: readonly AdvertisedRef[], capabilities: readonly string[], options: RefAdvertisementOptions): Uint8Array[] {
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
  if (first && options.emptyCapabilitiesLine) line('0'.repeat(40), 'capabilities^{}');
  out.push(FLUSH_PKT);
  return out;
}

/** The v2 capability advertisement (no `# service=` preamble, as git's own server does for v2). */
export function advertiseV2(): Uint8Array[] {
  return [encodePktLine('version 2'), ...V2_CAPABILITIES.map((c) => encodePktLine(c)), FLUSH_PKT];
}
