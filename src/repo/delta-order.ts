/**
 * The order of a pack's deltas (pure, over the plan's `base` array: per position, the position
 * of its delta base in the pack, WHOLE or THIN). A base must precede its deltas (git requires it
 * of ofs-deltas; some readers resolve a ref-delta only against what they have seen), and no
 * chain may pass MAX_CHAIN: `chainDepths` measures every chain and cuts the long ones (the
 * object that would be the 51st link goes whole and the chain starts again from it), `byDepth`
 * sorts the deltas by depth (whole ones first), so each depth follows the one it is built on.
 */

/** Longest delta chain a pack carries (git's pack.depth default). */
export const MAX_CHAIN = 50;

/** Marks in a plan's `base` array: the object goes out whole, or as a delta against a client's object. */
export const WHOLE = -1;
export const THIN = -2;

/** Chain depth of every object (0: whole; thin deltas 1); chains longer than MAX_CHAIN are cut in `base`. */
export function chainDepths(base: Int32Array): Uint8Array {
  const n = base.length;
  const depth = new Uint8Array(n);
  const state = new Uint8Array(n); // 0 not seen, 1 on the current path, 2 done
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] === 2) continue;
    let cur = i;
    for (;;) {
      if (state[cur] === 2) break;
      if (state[cur] === 1) {
        // A cycle cannot come from real packs; the object closing it goes out whole.
        base[cur] = WHOLE;
        state[cur] = 2;
        break;
      }
      state[cur] = 1;
      path.push(cur);
      if (base[cur]! < 0) break;
      cur = base[cur]!;
    }
    while (path.length > 0) {
      const j = path.pop()!;
      if (state[j] === 2) continue;
      const b = base[j]!;
      let d = b === WHOLE ? 0 : b === THIN ? 1 : depth[b]! + 1;
      if (d > MAX_CHAIN) {
        base[j] = WHOLE;
        d = 0;
      }
      depth[j] = d;
      state[j] = 2;
    }
  }
  return depth;
}

/**
 * The positions marked in `wasDelta`, sorted by `depth` (a counting sort: those whose chain was
 * cut, now whole, first). Within a depth ascending, or, with `first`, the positions it gives
 * (those `inFirst` accepts) in its order, then the others ascending.
 */
export function byDepth(wasDelta: Uint8Array, depth: Uint8Array, first?: Iterable<number>, inFirst?: (i: number) => boolean): Int32Array {
  const n = wasDelta.length;
  const counts = new Int32Array(MAX_CHAIN + 2);
  for (let i = 0; i < n; i++) if (wasDelta[i]) counts[depth[i]! + 1]!++;
  for (let d = 1; d < counts.length; d++) counts[d]! += counts[d - 1]!;
  const order = new Int32Array(counts[MAX_CHAIN + 1]!);
  if (first !== undefined) for (const i of first) if (wasDelta[i]) order[counts[depth[i]!]!++] = i;
  for (let i = 0; i < n; i++) if (wasDelta[i] && !inFirst?.(i)) order[counts[depth[i]!]!++] = i;
  return order;
}
