/**
 * The fetch request's arguments, one rule each, whichever protocol version carried them
 * (gitprotocol-v2 "fetch", gitprotocol-pack "Packfile Negotiation"):
 *
 *   value-arg = "want " oid / "have " oid / "shallow " oid / "deepen " depth
 *             / "deepen-since " timestamp / "deepen-not " ref / "filter " spec
 *   flag-arg  = "thin-pack" / "ofs-delta" / "include-tag" / "no-progress" / "deepen-relative"
 *             / "done" / "wait-for-done"                         ; exact lines, nothing after
 *
 * v2 sends every argument as a line after the delim-pkt. v0/v1 sends the value arguments as
 * lines of the want section (in any order, as C git reads them), the `have` lines and `done`
 * after it, and the flags it shares with v2 as capabilities after the first want's id.
 * Both feed the same `FetchArgs`, so a rule cannot differ between the versions.
 */
import { LimitExceededError, ProtocolError } from '../errors.js';
import { isOid, type Oid } from '../object/oid.js';
import type { FetchRequest, ObjectFilter } from './backend.js';
import { parseCapabilities } from './capabilities.js';
import { DEFAULT_UPLOAD_PACK_LIMITS, type UploadPackLimits } from './limits.js';
import type { PktReader } from './pkt-line.js';
import { pktText } from './pkt-line.js';

/** A parsed fetch: the backend request plus negotiation flags. */
export interface ParsedFetch {
  request: FetchRequest;
  done: boolean;
  noProgress: boolean;
  waitForDone: boolean;
  /** The client asked for a deepening (`deepen`, `deepen-since`, `deepen-not`). */
  deepen: boolean;
}

/** A parsed v0/v1 upload-pack request. */
export interface ParsedV0Fetch extends ParsedFetch {
  /** Capabilities of the want lines. */
  capabilities: Map<string, string>;
  /** The body ended right after the want section (a deepen-only round). */
  wantsOnly: boolean;
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

/** Accumulates one fetch request, argument by argument. */
class FetchArgs {
  readonly parsed: ParsedFetch = {
    request: { wants: [], haves: [], clientShallows: [], includeTag: false, ofsDelta: false, thinPack: false },
    done: false,
    noProgress: false,
    waitForDone: false,
    deepen: false,
  };
  readonly wants = new Set<Oid>();

  constructor(readonly limits: UploadPackLimits) {}

  /** Checks the combinations and returns the request (`wants` may be empty: nothing to send). */
  finish(): ParsedFetch {
    const req = this.parsed.request;
    req.wants = [...this.wants];
    if (req.depth !== undefined && (req.deepenSince !== undefined || req.deepenNot !== undefined)) {
      throw new ProtocolError('deepen and deepen-since (or deepen-not) cannot be used together');
    }
    if (req.deepenRelative && req.depth === undefined) throw new ProtocolError('deepen-relative needs deepen');
    return this.parsed;
  }
}

/** The rule of each `<name> <value>` argument. */
const VALUE_RULES: Readonly<Record<string, (f: FetchArgs, value: string) => void>> = {
  want(f, v) {
    if (f.wants.size >= f.limits.maxWants) throw new LimitExceededError(`more than ${f.limits.maxWants} wants`);
    f.wants.add(requireOid(v, 'want'));
  },
  have(f, v) {
    const req = f.parsed.request;
    if (req.haves.length >= f.limits.maxHaves) throw new LimitExceededError(`more than ${f.limits.maxHaves} haves`);
    req.haves.push(requireOid(v, 'have'));
  },
  shallow(f, v) {
    const req = f.parsed.request;
    if (req.clientShallows.length >= f.limits.maxShallows) throw new LimitExceededError(`more than ${f.limits.maxShallows} shallow lines`);
    req.clientShallows.push(requireOid(v, 'shallow'));
  },
  deepen(f, v) {
    const depth = parseNonNegativeInt(v, 'deepen', f.limits.maxDepth);
    if (depth === 0) throw new ProtocolError('deepen 0 is not allowed');
    f.parsed.request.depth = depth;
    f.parsed.deepen = true;
  },
  'deepen-since'(f, v) {
    f.parsed.request.deepenSince = parseNonNegativeInt(v, 'deepen-since', Number.MAX_SAFE_INTEGER);
    f.parsed.deepen = true;
  },
  'deepen-not'(f, v) {
    const list = (f.parsed.request.deepenNot ??= []);
    if (list.length >= f.limits.maxPrefixes) throw new LimitExceededError(`more than ${f.limits.maxPrefixes} deepen-not lines`);
    // C git refuses an empty name in both versions ("ambiguous deepen-not").
    if (v === '') throw new ProtocolError('deepen-not needs a ref');
    list.push(v);
    f.parsed.deepen = true;
  },
  filter(f, v) {
    if (f.parsed.request.filter) throw new ProtocolError('more than one filter');
    f.parsed.request.filter = parseFilterSpec(v);
  },
};

/** The rule of each flag argument (a whole line in v2; a capability in v0, except `done`). */
const FLAG_RULES: Readonly<Record<string, (f: FetchArgs) => void>> = {
  'thin-pack': (f) => void (f.parsed.request.thinPack = true),
  'ofs-delta': (f) => void (f.parsed.request.ofsDelta = true),
  'include-tag': (f) => void (f.parsed.request.includeTag = true),
  'no-progress': (f) => void (f.parsed.noProgress = true),
  'deepen-relative': (f) => void (f.parsed.request.deepenRelative = true),
  done: (f) => void (f.parsed.done = true),
  'wait-for-done': (f) => void (f.parsed.waitForDone = true),
};

/** Flags v0/v1 carries as capabilities of the want line (same names as the v2 arguments). */
const V0_CAPABILITY_FLAGS = ['thin-pack', 'ofs-delta', 'include-tag', 'no-progress', 'deepen-relative'] as const;

/** Applies one `<name> <value>` line; false when `line` is not a value argument. */
function applyValueLine(f: FetchArgs, line: string, allowed: (name: string) => boolean): boolean {
  const sp = line.indexOf(' ');
  if (sp < 0) return false;
  const name = line.slice(0, sp);
  const rule = Object.hasOwn(VALUE_RULES, name) && allowed(name) ? VALUE_RULES[name] : undefined;
  if (!rule) return false;
  rule(f, line.slice(sp + 1));
  return true;
}

/** Parses v2 `fetch` arguments. */
export function parseFetchArgs(args: readonly string[], l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): ParsedFetch {
  const f = new FetchArgs(l);
  for (const a of args) {
    if (Object.hasOwn(FLAG_RULES, a)) FLAG_RULES[a]!(f);
    else if (!applyValueLine(f, a, () => true)) throw new ProtocolError(`fetch: unexpected argument ${JSON.stringify(a.slice(0, 64))}`);
  }
  return f.finish();
}

/** Value arguments of the v0/v1 want section (haves come after it). */
const inV0WantSection = (name: string): boolean => name !== 'have';

/**
 * Reads a v0/v1 upload-pack request body: the want section up to its flush, then have lines
 * ending with `done`, a flush (end of a round) or the end of the body. `null` when the body
 * holds no want (C git then answers nothing).
 */
export async function readV0FetchRequest(reader: PktReader, l: UploadPackLimits = DEFAULT_UPLOAD_PACK_LIMITS): Promise<ParsedV0Fetch | null> {
  const f = new FetchArgs(l);
  const capabilities = new Map<string, string>();
  let empty = true;
  for (;;) {
    const p = await reader.read();
    if (p.type === 'flush') break;
    if (p.type === 'end') {
      if (empty) return null;
      throw new ProtocolError('request ends before the flush after the wants');
    }
    if (p.type !== 'data') throw new ProtocolError(`unexpected ${p.type} packet`);
    empty = false;
    let line = pktText(p.data);
    if (line.startsWith('want ')) {
      // Capabilities follow a want's id after a space (older clients: after a NUL).
      const cut = line.slice(5).search(/[ \0]/);
      if (cut >= 0) {
        for (const [k, v] of parseCapabilities(line.slice(6 + cut).replace(/\0/g, ' '))) capabilities.set(k, v);
        line = line.slice(0, 5 + cut);
      }
    }
    if (!applyValueLine(f, line, inV0WantSection)) throw new ProtocolError(`unexpected line in want section: ${JSON.stringify(line.slice(0, 64))}`);
  }
  if (f.wants.size === 0) return null;
  for (const name of V0_CAPABILITY_FLAGS) if (capabilities.has(name)) FLAG_RULES[name]!(f);
  if (f.parsed.request.filter && !capabilities.has('filter')) throw new ProtocolError('filter line without the filter capability');
  let wantsOnly = false;
  for (;;) {
    const p = await reader.read();
    if (p.type === 'end') {
      wantsOnly = f.parsed.request.haves.length === 0;
      break;
    }
    if (p.type === 'flush') continue;
    if (p.type !== 'data') throw new ProtocolError(`unexpected ${p.type} packet`);
    const line = pktText(p.data);
    if (line === 'done') {
      FLAG_RULES.done!(f);
      break;
    }
    if (!applyValueLine(f, line, (name) => name === 'have')) throw new ProtocolError(`expected have or done, got ${JSON.stringify(line.slice(0, 64))}`);
  }
  return { ...f.finish(), capabilities, wantsOnly };
}
