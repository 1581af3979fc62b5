/**
 * What the server advertises (gitprotocol-capabilities, gitprotocol-v2 "Capability Advertisement").
 * v0/v1 lists travel after a NUL on the first ref line; v2 is a list of pkt-lines after `version 2`.
 * docs/protocol.md says, for each capability, why it is or is not here.
 */

/** The version string of `agent=`. */
export const SERVER_VERSION = '0.1.0';
/** The `agent=` value this server sends. */
export const AGENT = `level-git/${SERVER_VERSION}`;

/** v0/v1 upload-pack capabilities (the `symref=` entry is added per repository). */
export const UPLOAD_PACK_V0_CAPABILITIES: readonly string[] = [
  'multi_ack',
  'multi_ack_detailed',
  'side-band',
  'side-band-64k',
  'thin-pack',
  'ofs-delta',
  'shallow',
  'deepen-since',
  'deepen-not',
  'deepen-relative',
  'no-progress',
  'include-tag',
  'allow-tip-sha1-in-want',
  'allow-reachable-sha1-in-want',
  'filter',
  'object-format=sha1',
  `agent=${AGENT}`,
];

/** v0/v1 receive-pack capabilities. */
export const RECEIVE_PACK_CAPABILITIES: readonly string[] = [
  'report-status',
  'report-status-v2',
  'delete-refs',
  'side-band-64k',
  'quiet',
  'atomic',
  'ofs-delta',
  'push-options',
  'object-format=sha1',
  `agent=${AGENT}`,
];

/** The v2 capability advertisement lines (each becomes one pkt-line, then a flush). */
export const V2_CAPABILITIES: readonly string[] = [
  `agent=${AGENT}`,
  'ls-refs=unborn',
  'fetch=shallow filter wait-for-done',
  'server-option',
  'object-format=sha1',
];

/** Parses a capability list (`a b=c d`) into a map of name to value (`''` when none). */
export function parseCapabilities(list: string): Map<string, string> {
  const caps = new Map<string, string>();
  for (const word of list.split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    if (eq < 0) caps.set(word, '');
    else caps.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return caps;
}
