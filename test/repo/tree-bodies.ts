/**
 * Tree bodies for the tree walk's tests (tree-walk-reference, tree-shapes): built from entries,
 * read back plainly, and the walk's rule entry by entry as a model to compare scans against.
 */
import { toHex } from '../../src/platform/bytes.js';

/** One entry of a test tree. */
export interface Entry {
  mode: string;
  name: string;
  id: Uint8Array;
}

/** The modes a test tree draws from ('040000' is the zero-padded form git tolerates). */
export const MODES = ['100644', '100755', '120000', '40000', '040000', '160000'];

/** A tree body of `entries`, in the order given. */
export function encode(entries: readonly Entry[]): Uint8Array {
  const parts: number[] = [];
  for (const e of entries) {
    for (const c of `${e.mode} ${e.name}`) parts.push(c.charCodeAt(0));
    parts.push(0, ...e.id);
  }
  return Uint8Array.from(parts);
}

/** Entry starts of a body (and its length last) and its entries, read plainly (well-formed bodies only). */
export function parse(body: Uint8Array): { starts: number[]; entries: { mode: string; id: Uint8Array }[] } {
  const starts: number[] = [];
  const entries: { mode: string; id: Uint8Array }[] = [];
  let i = 0;
  while (i < body.length) {
    starts.push(i);
    const sp = body.indexOf(0x20, i);
    const nul = body.indexOf(0, sp);
    entries.push({ mode: String.fromCharCode(...body.subarray(i, sp)), id: body.subarray(nul + 1, nul + 21) });
    i = nul + 21;
  }
  starts.push(body.length);
  return { starts, entries };
}

/** The walk's rule entry by entry: a gitlink or an id in `met` is skipped, an accepted one joins `met`. */
export function modelScan<T extends string>(body: Uint8Array, met: Set<T>, visit: (id: T, tree: boolean) => boolean): void {
  for (const e of parse(body).entries) {
    if (e.mode === '160000') continue;
    const id = toHex(e.id) as T;
    if (met.has(id)) continue;
    if (visit(id, e.mode === '40000' || e.mode === '040000')) met.add(id);
  }
}

/** A small pool of ids, so trees share entries and ids recur. */
export function poolId(n: number): Uint8Array {
  const id = new Uint8Array(20);
  id[0] = n;
  id[7] = n * 7;
  id[19] = 255 - n;
  return id;
}
