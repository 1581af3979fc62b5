/**
 * Full clones read the store in key order instead of by id (repo/pack-out.ts): a full clone
 * wants most of the store, and LevelDB answers one ordered read of a range for a fraction of
 * what a lookup per id costs when the ids are spread over the whole store.
 */
import type { ObjectStore } from '../object/object-store.js';
import { compareFrom } from '../platform/bytes.js';
import { deltaEntryOf } from '../object/packed.js';
import type { Positions } from './pack-positions.js';

/**
 * The store's `D` range read once in key order (`PackBytesOptions.scanDeltas`): each value of
 * an id in the pack (`position`) is handed to `settle`. A key-ordered read costs LevelDB about
 * half of one lookup per id, most of which miss (ids stored whole). Returns 1 for every position
 * settled: all of them when the range was read to its end; when more than half the range's
 * size in the pack's ids turned out to be other objects' (a pool shared with larger forks), the
 * scan stops and only the deltas met so far are settled (the rest are looked up).
 */
export async function scanDeltas(objects: ObjectStore, position: Positions, settle: (p: number, entry: Uint8Array) => void): Promise<Uint8Array> {
  const settled = new Uint8Array(position.size);
  let others = 0;
  for await (const batch of objects.deltaRange()) {
    for (const [key, value] of batch) {
      const p = position.get(key, 5);
      if (p >= 0) {
        settle(p, deltaEntryOf(value));
        settled[p] = 1;
      } else if (++others > position.size / 2) return settled;
    }
  }
  return settled.fill(1);
}

/** Whole entries met by `scanStore`, with their pack positions. */
export interface WholeGroup {
  entries: Uint8Array[];
  positions: number[];
}

/** What `scanStore` leaves to be read by id. */
export interface ScanLeft {
  /** Positions met in neither range, or not reached when the scan stopped: their forms are unknown. */
  unsettled: number[];
  /** Positions that go whole but have no `O` value (stored only as deltas): to be materialized. */
  whole: number[];
}

/** Whole entries are handed on in groups of about this many bytes. */
const GROUP_BYTES = 1024 * 1024;

/**
 * The `D` and `O` ranges read together in key order, as one merge (an id's two values meet):
 * each object of the pack not marked in `done` is settled from its `D` value (`settle` says
 * whether it then goes whole: its base is not in the pack) and, going whole, sent from its `O`
 * value as soon as it is met, so a full clone's whole objects flow from the first database read
 * instead of after a pass over every delta. Stops like `scanDeltas` when more than half the
 * pack's size in entries were other objects'; returns what is left to read by id.
 */
export async function* scanStore(
  objects: ObjectStore,
  position: Positions,
  done: Uint8Array,
  settle: (p: number, entry: Uint8Array) => boolean,
): AsyncGenerator<WholeGroup, ScanLeft> {
  const n = position.size;
  const whole: number[] = [];
  const deltas = objects.deltaRange()[Symbol.asyncIterator]();
  const wholes = objects.wholeRange()[Symbol.asyncIterator]();
  let d: [Uint8Array, Uint8Array][] = [];
  let o: [Uint8Array, Uint8Array][] = [];
  let di = 0;
  let oi = 0;
  let dEnd = false;
  let oEnd = false;
  let others = 0;
  let group: WholeGroup = { entries: [], positions: [] };
  let bytes = 0;
  try {
    while (others <= n / 2) {
      if (di === d.length && !dEnd) {
        const r = await deltas.next();
        if (r.done) dEnd = true;
        else [d, di] = [r.value, 0];
        continue;
      }
      if (oi === o.length && !oEnd) {
        const r = await wholes.next();
        if (r.done) oEnd = true;
        else [o, oi] = [r.value, 0];
        continue;
      }
      const dk = di < d.length ? d[di]![0] : undefined;
      const ok = oi < o.length ? o[oi]![0] : undefined;
      if (dk === undefined && ok === undefined) break;
      // The ids' order (keys: tag, 4-byte pool id, id): only a `D` value (< 0), both (0), only an `O` value (> 0).
      const c = dk === undefined ? 1 : ok === undefined ? -1 : compareFrom(dk, ok, 5);
      const p = position.get(c <= 0 ? dk! : ok!, 5);
      if (p < 0) others++;
      else if (done[p] === 0) {
        done[p] = 1;
        if (c > 0 || settle(p, deltaEntryOf(d[di]![1]))) {
          if (c >= 0) {
            const entry = o[oi]![1];
            group.entries.push(entry);
            group.positions.push(p);
            bytes += entry.length;
          } else {
            whole.push(p);
          }
        }
      }
      if (c <= 0) di++;
      if (c >= 0) oi++;
      if (bytes >= GROUP_BYTES) {
        yield group;
        group = { entries: [], positions: [] };
        bytes = 0;
      }
    }
  } finally {
    await Promise.all([deltas.return?.(undefined), wholes.return?.(undefined)]);
  }
  if (group.positions.length > 0) yield group;
  const unsettled: number[] = [];
  for (let p = 0; p < n; p++) if (done[p] === 0) unsettled.push(p);
  return { unsettled, whole };
}
