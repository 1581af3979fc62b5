/**
 * Tree shapes for long tree walks (tree-walk.ts RawTrees): where each entry of a tree body
 * starts, and, for a tree stored as a delta of one the walk already met whole, the delta itself
 * instead of the body. Trees of a history arrive as deltas of their neighbours and mostly copy
 * their base: an entry whose bytes the delta copies whole from the start of one of the base's
 * entries *is* that entry (same mode, name and id), so when the walk met every entry of the
 * base it is met already. `deltaShape` reads the delta's ops against the base's entry starts
 * and parses (from a small window of bytes read through the chain) only the entries that are
 * not copied whole: no delta applied, no body built, no byte of the copied entries scanned.
 *
 * Copy ops copy arbitrary byte ranges: an entry counts as copied only when its start maps to an
 * entry start of the base and its end stays inside the same op, so a crafted delta (copies from
 * the middle of entries, ops splitting entries) only costs parses, never a missed entry. The
 * base must be a shape of this walk whose every entry was met (`complete`). A chain of virtual
 * shapes is cut (the body built) past `MAX_CHAIN` links or `MAX_HELD` bytes, so reading a byte
 * stays cheap and what a shape holds alive stays bounded.
 */
import { InvalidObjectError } from '../errors.js';
import { DEFAULT_MAX_DELTA_RESULT, applyDelta, copyOp, readCopyOp, readDeltaSizes } from '../pack/delta.js';
import { scanEntries } from '../object/tree.js';

/** Links of virtual shapes read through before a shape's body is built. */
const MAX_CHAIN = 16;
/** Bytes a virtual shape may hold alive through its chain before its body is built. */
const MAX_HELD = 1024 * 1024;

/**
 * Called for each entry a scan cannot prove met: mode at buf[start..sp), id at buf[idAt..+20);
 * true when the entry is met (or is a gitlink), false when it stays unmet. `buf` may be a
 * scratch buffer reused by the next call.
 */
export type ShapeEntry = (buf: Uint8Array, start: number, sp: number, idAt: number) => boolean;

/** A tree met by a walk: its entry starts, whether every entry was met, and its bytes (whole, or a delta over another shape). */
export class TreeShape {
  /** Body length. */
  readonly size: number;
  /** Entry starts in the body at slab[at..at + count), then the body's length at slab[at + count]; let go when the ring drops the shape. */
  slab: Int32Array = EMPTY_STARTS;
  at = 0;
  count = 0;
  /** Every entry but gitlinks met by the walk. */
  complete = false;
  /** The body, when built. */
  body: Uint8Array | undefined;
  /** Otherwise: the delta's base, the delta, and its ops, two values each: end in the result, source (a base offset, or -1 - a delta offset for an insert). */
  base: TreeShape | undefined;
  delta: Uint8Array | undefined;
  ops: Int32Array | undefined;
  /** Virtual links to the nearest built body (0 when built). */
  depth = 0;
  /** Bytes this shape holds alive, its chain included (a bound, shared links counted for each). */
  held = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Bytes of this shape alone. */
  get ownBytes(): number {
    return 64 + 4 * (this.count + 1) + (this.body?.length ?? 0) + (this.delta?.length ?? 0) + (this.ops?.byteLength ?? 0);
  }
}

const EMPTY_STARTS = new Int32Array(1);

/**
 * Entry starts of shapes are kept in shared slabs (a typed array per tree is an off-heap
 * allocation, and one more object for the garbage collector to move while the ring holds it);
 * a slab is let go once the ring dropped every shape in it.
 */
const SLAB = 1 << 18;
let slab = new Int32Array(SLAB);
let slabUsed = 0;

/** A list of entry starts written straight into the current slab (moved to a fresh one when it fills). */
class Starts {
  a = slab;
  from = slabUsed;
  n = slabUsed;
  push(v: number): void {
    if (this.n === this.a.length) this.#grow(1);
    this.a[this.n++] = v;
  }
  /** Moves the starts so far to a fresh slab with room for `more` (a tree too big for one gets an array of its own). */
  #grow(more: number): void {
    const have = this.n - this.from;
    const b = new Int32Array(Math.max(SLAB, 2 * have, have + more));
    b.set(this.a.subarray(this.from, this.n));
    this.a = b;
    this.from = 0;
    this.n = have;
  }
  /** Pushes src[from..to) + shift. */
  copy(src: Int32Array, from: number, to: number, shift: number): void {
    if (this.n + (to - from) > this.a.length) this.#grow(to - from);
    const a = this.a;
    let n = this.n;
    for (let k = from; k < to; k++) a[n++] = src[k]! + shift;
    this.n = n;
  }
  /** Gives the starts (the body's length last) to `shape`; the slab's space after them is the next shape's. */
  into(shape: TreeShape): void {
    shape.slab = this.a;
    shape.at = this.from;
    shape.count = this.n - this.from - 1;
    if (this.a.length === SLAB) {
      slab = this.a;
      slabUsed = this.n;
    }
  }
}

/** Shape of a whole body: every entry goes to `entry` (the walk's lookup), read by object/tree.ts scanEntries. Throws on a truncated body; modes and names are not checked (object/tree.ts scanTree checked them when stored). */
export function wholeShape(body: Uint8Array, entry: ShapeEntry): TreeShape {
  const shape = new TreeShape(body.length);
  const starts = new Starts();
  let complete = true;
  scanEntries(body, (start, sp, at) => {
    starts.push(start);
    if (!entry(body, start, sp, at)) complete = false;
  });
  starts.push(body.length);
  starts.into(shape);
  shape.complete = complete;
  shape.body = body;
  shape.held = shape.ownBytes;
  return shape;
}

/**
 * Shape of the tree `delta` builds from `base`. With a complete base, only entries not copied
 * whole from one of its entries go to `entry`; else the body is built and scanned whole.
 * A delta that does not fit the base throws as `applyDelta` does.
 */
export function deltaShape(base: TreeShape, delta: Uint8Array, entry: ShapeEntry): TreeShape {
  const shape = base.complete ? virtualShape(base, delta) : undefined;
  if (shape === undefined) return wholeShape(applyDelta(bodyOf(base), delta), entry);
  const size = shape.size;
  const ops = shape.ops!;
  const bs = base.slab;
  const b0 = base.at;
  const nb = base.at + base.count;
  const starts = new Starts();
  let complete = true;
  let p = 0;
  let k = 0;
  while (p < size) {
    while (ops[k]! <= p) k += 2;
    const src = ops[k + 1]!;
    if (src >= 0) {
      // The base offset this entry would start at, and where the op's copy ends in the base.
      const opStart = k === 0 ? 0 : ops[k - 2]!;
      const q = src + (p - opStart);
      const limit = src + (ops[k]! - opStart);
      const j = lowerBound(bs, b0, nb, q);
      if (j < nb && bs[j] === q && bs[j + 1]! <= limit) {
        // Base entries j..e-1 are copied whole, one after another: met already, each at the same distance.
        const e = lowerBound(bs, j + 1, nb + 1, limit + 1) - 1;
        const shift = p - q;
        starts.copy(bs, j, e, shift);
        p = bs[e]! + shift;
        continue;
      }
    }
    starts.push(p);
    const w = readEntry(shape, p);
    if (!entry(scratch, 0, w.sp, w.nul + 1)) complete = false;
    p += w.nul + 21;
  }
  starts.push(size);
  starts.into(shape);
  shape.complete = complete;
  shape.depth = base.depth + 1;
  shape.held = shape.ownBytes + base.held;
  if (shape.depth > MAX_CHAIN || shape.held > MAX_HELD) {
    // Cut the chain: the body built once, its links let go.
    shape.body = bodyOf(shape);
    shape.base = shape.delta = shape.ops = undefined;
    shape.depth = 0;
    shape.held = shape.ownBytes;
  }
  return shape;
}

/** The body of a shape, built from its chain when virtual. */
export function bodyOf(shape: TreeShape): Uint8Array {
  if (shape.body !== undefined) return shape.body;
  const out = new Uint8Array(shape.size);
  readInto(shape, 0, shape.size, out, 0);
  return out;
}

/** A virtual shape of `delta` over `base` (ops parsed and checked), or undefined when the delta does not fit (`applyDelta` then says why). */
function virtualShape(base: TreeShape, delta: Uint8Array): TreeShape | undefined {
  try {
    return parseOps(base, delta);
  } catch {
    return undefined; // a truncated op: applyDelta says so, in its own words
  }
}

function parseOps(base: TreeShape, delta: Uint8Array): TreeShape | undefined {
  const { baseSize, resultSize, offset } = readDeltaSizes(delta);
  if (baseSize !== base.size || resultSize > DEFAULT_MAX_DELTA_RESULT) return undefined;
  const n = delta.length;
  let count = 0;
  for (let i = offset; i < n; count++) {
    const op = delta[i++]!;
    if (op & 0x80) i = readCopyOp(delta, i, op);
    else if (op === 0) return undefined;
    else i += op;
  }
  const ops = new Int32Array(2 * count);
  let o = 0;
  let i = offset;
  for (let k = 0; k < 2 * count; k += 2) {
    const op = delta[i++]!;
    if (op & 0x80) {
      i = readCopyOp(delta, i, op);
      if (copyOp.offset + copyOp.size > baseSize) return undefined;
      ops[k + 1] = copyOp.offset;
      o += copyOp.size;
    } else {
      if (i + op > n) return undefined;
      ops[k + 1] = -1 - i;
      o += op;
      i += op;
    }
    if (o > resultSize) return undefined;
    ops[k] = o;
  }
  if (o !== resultSize) return undefined;
  const shape = new TreeShape(resultSize);
  shape.base = base;
  shape.delta = delta;
  shape.ops = ops;
  return shape;
}

/** The first index in a[from..to) whose value is at least v (`to` when none is). */
function lowerBound(a: Int32Array, from: number, to: number, v: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index (even) in `ops` of the op covering result byte `p`. */
function opAt(ops: Int32Array, p: number): number {
  let lo = 0;
  let hi = (ops.length >> 1) - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ops[2 * mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  return 2 * lo;
}

/** Copies bytes [from, to) of a shape into dst at `at`, through its chain. */
function readInto(shape: TreeShape, from: number, to: number, dst: Uint8Array, at: number): void {
  const body = shape.body;
  if (body !== undefined) {
    if (to - from > 256) dst.set(body.subarray(from, to), at);
    else for (let k = from; k < to; k++) dst[at++] = body[k]!;
    return;
  }
  const ops = shape.ops!;
  const delta = shape.delta!;
  let k = opAt(ops, from);
  while (from < to) {
    const opStart = k === 0 ? 0 : ops[k - 2]!;
    const end = Math.min(to, ops[k]!);
    const src = ops[k + 1]!;
    if (src >= 0) readInto(shape.base!, src + from - opStart, src + end - opStart, dst, at);
    else for (let d = -1 - src + from - opStart, e = d + end - from, a = at; d < e; d++) dst[a++] = delta[d]!;
    at += end - from;
    from = end;
    k += 2;
  }
}

/** Bytes read for an entry the delta does not copy whole (names are short; a longer one is read again, wider). */
const WINDOW = 96;
let scratch = new Uint8Array(WINDOW);
const found = { sp: 0, nul: 0 };

/** Reads the entry at `p` of a shape into `scratch` from 0: where its mode ends (sp) and its name's NUL are, relative to p. */
function readEntry(shape: TreeShape, p: number): { sp: number; nul: number } {
  let want = Math.min(WINDOW, shape.size - p);
  for (;;) {
    if (scratch.length < want) scratch = new Uint8Array(want);
    readInto(shape, p, p + want, scratch, 0);
    let sp = 0;
    while (sp < want && scratch[sp] !== 0x20) sp++;
    let nul = sp + 1;
    while (nul < want && scratch[nul] !== 0) nul++;
    if (nul + 21 <= want) {
      found.sp = sp;
      found.nul = nul;
      return found;
    }
    if (p + want >= shape.size) throw new InvalidObjectError('truncated tree entry');
    want = Math.min(shape.size - p, want * 2);
  }
}

/**
 * The shapes a walk met most recently, by id: a ring bounded by count and by the bytes they
 * hold alive (their chains counted for each, so the bound holds whatever they share).
 */
export class ShapeRing {
  readonly #shapes = new Map<string, TreeShape>();
  readonly #kept: (string | undefined)[];
  readonly #maxBytes: number;
  #next = 0;
  #bytes = 0;

  constructor(maxCount: number, maxBytes: number) {
    this.#kept = new Array<string | undefined>(maxCount);
    this.#maxBytes = maxBytes;
  }

  /** The shape of `oid` when kept. */
  get(oid: string): TreeShape | undefined {
    return this.#shapes.get(oid);
  }

  /** True when `oid` is kept. */
  has(oid: string): boolean {
    return this.#shapes.has(oid);
  }

  /** Keeps a shape, evicting the oldest beyond the bounds. */
  keep(oid: string, shape: TreeShape): void {
    const shapes = this.#shapes;
    if (shape.held > this.#maxBytes || shapes.has(oid)) return;
    const kept = this.#kept;
    const count = kept.length;
    for (let k = 0; k < count && (kept[this.#next] !== undefined || this.#bytes + shape.held > this.#maxBytes); k++) {
      const old = kept[this.#next];
      if (old !== undefined) {
        const gone = shapes.get(old)!;
        this.#bytes -= gone.held;
        // Its starts are read only while it is here (a base is found through the ring): let its slab go.
        gone.slab = EMPTY_STARTS;
        shapes.delete(old);
        kept[this.#next] = undefined;
      }
      if (this.#bytes + shape.held <= this.#maxBytes) break;
      this.#next = (this.#next + 1) % count;
    }
    kept[this.#next] = oid;
    this.#next = (this.#next + 1) % count;
    shapes.set(oid, shape);
    this.#bytes += shape.held;
  }
}
