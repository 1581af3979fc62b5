/**
 * The client side of Git's smart HTTP as codecs over pkt-lines (no I/O): reading a ref
 * advertisement (protocol v2 capabilities, or v0 refs and capabilities), writing v2 commands and
 * v0 requests, reading `ls-refs`, the shallow lines and the side-band pack of a fetch answer,
 * and a push's report-status. Errors the remote sends (`ERR` lines, side-band channel 3) are
 * RemoteErrors with the remote's words.
 */
import { ProtocolError, RemoteError } from '../errors.js';
import { type Oid, isOid } from '../object/oid.js';
import { concat, utf8 } from '../platform/bytes.js';
import { parseCapabilities } from '../protocol/capabilities.js';
import { DELIM_PKT, FLUSH_PKT, PktReader, encodePkt, pktText } from '../protocol/pkt-line.js';

/** A ref as a remote names it. */
export interface RemoteRef {
  name: string;
  oid: Oid;
  /** The branch a symbolic ref (HEAD) points at. */
  symref?: string;
  /** What an annotated tag peels to. */
  peeled?: Oid;
}

/** A remote's advertisement: protocol v2 capabilities, or v0 refs with the capabilities of the first line. */
export type Advertisement = { version: 2; caps: Map<string, string> } | { version: 0; caps: Map<string, string>; refs: RemoteRef[] };

/** Packets the remote may send in one answer (a ref advertisement of many refs stays far below). */
const MAX_PACKETS = 10_000_000;

/** A pkt-line reader over a response body. */
export function pktReader(body: AsyncIterable<Uint8Array>): PktReader {
  return new PktReader(body, { maxPackets: MAX_PACKETS });
}

function remoteSaid(message: string): RemoteError {
  return new RemoteError('ERR_REMOTE', `remote error: ${message.replace(/\n+$/, '')}`);
}

/** Reads the answer of `GET info/refs?service=…`: skips the `# service=` preamble, then v2 capabilities or v0 refs. */
export async function readAdvertisement(reader: PktReader): Promise<Advertisement> {
  let first = await reader.read();
  if (first.type === 'data' && pktText(first.data).startsWith('# service=')) {
    const flush = await reader.read();
    if (flush.type !== 'flush') throw new ProtocolError('remote advertisement: no flush after the service line');
    first = await reader.read();
  }
  if (first.type === 'flush' || first.type === 'end') return { version: 0, caps: new Map(), refs: [] };
  if (first.type !== 'data') throw new ProtocolError(`remote advertisement starts with a ${first.type} packet`);
  const line = pktText(first.data);
  if (line.startsWith('ERR ')) throw remoteSaid(line.slice(4));
  if (line === 'version 2') {
    const caps = new Map<string, string>();
    for (;;) {
      const p = await reader.read();
      if (p.type !== 'data') break;
      const text = pktText(p.data);
      const eq = text.indexOf('=');
      caps.set(eq < 0 ? text : text.slice(0, eq), eq < 0 ? '' : text.slice(eq + 1));
    }
    return { version: 2, caps };
  }
  const nul = first.data.indexOf(0);
  const rawCaps = nul < 0 ? '' : pktText(first.data.subarray(nul + 1));
  const caps = parseCapabilities(rawCaps);
  const refs: RemoteRef[] = [];
  const add = (text: string) => {
    const [oid, name] = text.split(' ', 2);
    if (oid === undefined || name === undefined || !isOid(oid))
      throw new ProtocolError(`remote advertisement: bad ref line ${JSON.stringify(text.slice(0, 100))}`);
    if (name === 'capabilities^{}') return; // an empty repository
    if (name.endsWith('^{}')) {
      const tag = refs.find((r) => r.name === name.slice(0, -3));
      if (tag) tag.peeled = oid as Oid;
      return;
    }
    refs.push({ name, oid: oid as Oid });
  };
  add(nul < 0 ? line : new TextDecoder().decode(first.data.subarray(0, nul)));
  for (;;) {
    const p = await reader.read();
    if (p.type !== 'data') break;
    add(pktText(p.data));
  }
  const head = refs.find((r) => r.name === 'HEAD');
  const symref = /(?:^| )symref=HEAD:(\S+)/.exec(rawCaps)?.[1];
  if (head && symref) head.symref = symref;
  return { version: 0, caps, refs };
}

/** A v2 command request: `command=`, capabilities, delim, arguments, flush. */
export function encodeV2Command(command: string, caps: readonly string[], args: readonly string[]): Uint8Array {
  return concat([encodePkt(`command=${command}\n`), ...caps.map((c) => encodePkt(`${c}\n`)), DELIM_PKT, ...args.map((a) => encodePkt(`${a}\n`)), FLUSH_PKT]);
}

/** Reads an `ls-refs` answer (`<oid> <name>[ symref-target:<b>][ peeled:<oid>]`, flush). */
export async function readLsRefs(reader: PktReader): Promise<RemoteRef[]> {
  const refs: RemoteRef[] = [];
  for (;;) {
    const p = await reader.read();
    if (p.type !== 'data') break;
    const text = pktText(p.data);
    if (text.startsWith('ERR ')) throw remoteSaid(text.slice(4));
    const [oid, name, ...attrs] = text.split(' ');
    if (oid === undefined || name === undefined) throw new ProtocolError('ls-refs: bad line');
    if (oid === 'unborn') continue;
    if (!isOid(oid)) throw new ProtocolError(`ls-refs: bad id in ${JSON.stringify(text.slice(0, 100))}`);
    const ref: RemoteRef = { name, oid: oid as Oid };
    for (const a of attrs) {
      if (a.startsWith('symref-target:')) ref.symref = a.slice('symref-target:'.length);
      else if (a.startsWith('peeled:') && isOid(a.slice(7))) ref.peeled = a.slice(7) as Oid;
    }
    refs.push(ref);
  }
  return refs;
}

/** The boundary a shallow fetch answered. */
export interface ShallowInfo {
  shallow: Oid[];
  unshallow: Oid[];
}

function shallowLine(text: string, info: ShallowInfo): boolean {
  const [kind, oid] = text.split(' ');
  if ((kind === 'shallow' || kind === 'unshallow') && oid !== undefined && isOid(oid)) {
    info[kind].push(oid as Oid);
    return true;
  }
  return false;
}

/**
 * Reads a v2 `fetch` answer up to its pack: the `acknowledgments` and `shallow-info` sections,
 * then the `packfile` section header. The pack follows (see `sidebandPack`).
 */
export async function readV2FetchHead(reader: PktReader): Promise<ShallowInfo> {
  const info: ShallowInfo = { shallow: [], unshallow: [] };
  for (;;) {
    const p = await reader.read();
    if (p.type === 'end') throw new RemoteError('ERR_REMOTE', 'remote ended the fetch answer without a pack');
    if (p.type !== 'data') continue;
    const text = pktText(p.data);
    if (text === 'packfile') return info;
    if (text.startsWith('ERR ')) throw remoteSaid(text.slice(4));
    shallowLine(text, info);
  }
}

/** Reads a v0 fetch answer up to its pack: shallow lines (and their flush), then one `NAK` or `ACK`. */
export async function readV0FetchHead(reader: PktReader): Promise<ShallowInfo> {
  const info: ShallowInfo = { shallow: [], unshallow: [] };
  for (;;) {
    const p = await reader.read();
    if (p.type === 'end') throw new RemoteError('ERR_REMOTE', 'remote ended the fetch answer without a pack');
    if (p.type !== 'data') continue;
    const text = pktText(p.data);
    if (text.startsWith('ERR ')) throw remoteSaid(text.slice(4));
    if (text === 'NAK' || text.startsWith('ACK ')) return info;
    shallowLine(text, info);
  }
}

/** The data of side-band channel 1 until a flush; progress (2) is dropped, an error (3) throws. */
export async function* sidebandData(reader: PktReader): AsyncGenerator<Uint8Array> {
  for (;;) {
    const p = await reader.read();
    if (p.type === 'flush' || p.type === 'end' || p.type === 'response-end') return;
    if (p.type !== 'data' || p.data.length === 0) continue;
    const channel = p.data[0];
    if (channel === 1) yield p.data.subarray(1);
    else if (channel === 3) throw remoteSaid(new TextDecoder().decode(p.data.subarray(1)));
  }
}

/** One ref a push asks the remote to move. */
export interface PushCommand {
  ref: string;
  old: Oid;
  new: Oid;
}

/** A receive-pack request: commands (capabilities on the first), flush, then the pack if any. */
export function encodePushCommands(commands: readonly PushCommand[], caps: readonly string[]): Uint8Array {
  const lines = commands.map((c, i) =>
    encodePkt(i === 0 ? concat([utf8(`${c.old} ${c.new} ${c.ref}`), new Uint8Array([0]), utf8(`${caps.join(' ')}\n`)]) : `${c.old} ${c.new} ${c.ref}\n`),
  );
  return concat([...lines, FLUSH_PKT]);
}

/** What report-status said: the unpack result and each ref's `ok` or `ng <reason>`. */
export interface ReportStatus {
  unpack: string;
  refs: Map<string, { ok: boolean; reason?: string }>;
}

/** Parses report-status lines (already out of the side band). */
export async function readReportStatus(reader: PktReader): Promise<ReportStatus> {
  const report: ReportStatus = { unpack: '', refs: new Map() };
  for (;;) {
    const p = await reader.read();
    if (p.type !== 'data') break;
    const text = pktText(p.data);
    if (text.startsWith('unpack ')) report.unpack = text.slice(7);
    else if (text.startsWith('ok ')) report.refs.set(text.slice(3), { ok: true });
    else if (text.startsWith('ng ')) {
      const rest = text.slice(3);
      const sp = rest.indexOf(' ');
      report.refs.set(sp < 0 ? rest : rest.slice(0, sp), { ok: false, reason: sp < 0 ? 'rejected' : rest.slice(sp + 1) });
    } else if (text.startsWith('ERR ')) throw remoteSaid(text.slice(4));
  }
  return report;
}
