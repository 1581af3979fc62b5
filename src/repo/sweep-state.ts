/**
 * What the sweep remembers between runs, per repository (`'W'` keys, storage/keys.ts): a
 * baseline (an object sweep completed once) and "needs an object sweep" markers. A marker is
 * written wherever objects may have become unreachable: a ref deleted, rewound or expired (in
 * the same batch as the ref, ref-updates.ts), objects stored whose ref update then failed (a
 * push, an API commit), and before a push's objects land (withdrawn when its refs landed, so a
 * crash in between leaves it). Each marker is its own key: a sweep lists the markers before
 * it reads the tips and deletes exactly those when it completes, so a marker written during a
 * sweep (garbage the sweep could not see) survives it, with no read-modify-write anywhere.
 */
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, decodeRepoId, prefixRange, sweepStateKey } from '../storage/keys.js';

const BASELINE = new Uint8Array([0x00]);
const MARK = 0x01;
let sequence = 0;

/** The write that records "this repository needs an object sweep" (a fresh key each call). */
export function sweepMarkOp(repoId: number): KvOp & { type: 'put' } {
  const suffix = new Uint8Array(13);
  suffix[0] = MARK;
  const view = new DataView(suffix.buffer);
  view.setFloat64(1, Date.now());
  // Unique within the process by the sequence, across processes by the random half.
  view.setUint16(9, sequence++ & 0xffff);
  view.setUint16(11, (Math.random() * 0x10000) >>> 0);
  return { type: 'put', key: sweepStateKey(repoId, suffix), value: new Uint8Array(0) };
}

/** Records that the repository needs an object sweep; returns the marker's key (to withdraw it). */
export async function markSweepNeeded(kv: Kv, repoId: number): Promise<Uint8Array> {
  const op = sweepMarkOp(repoId);
  await kv.batch([op]);
  return op.key;
}

/** Withdraws a marker this caller wrote (its objects turned out referenced). */
export async function withdrawSweepMarker(kv: Kv, key: Uint8Array): Promise<void> {
  await kv.batch([{ type: 'del', key }]);
}

/** What a sweep reads first: whether a sweep ever completed, and the markers written since. */
export interface SweepState {
  baseline: boolean;
  markers: Uint8Array[];
}

/** What a `W` key records: a completed sweep (the baseline), a marker, or neither. */
function keyKind(k: Uint8Array): 'baseline' | 'marker' | undefined {
  if (k.length === 6 && k[5] === BASELINE[0]) return 'baseline';
  return k[5] === MARK ? 'marker' : undefined;
}

/** Reads the sweep state of a repository (one short range scan). */
export async function readSweepState(kv: Kv, repoId: number): Promise<SweepState> {
  let baseline = false;
  const markers: Uint8Array[] = [];
  for await (const k of kv.keys(prefixRange(sweepStateKey(repoId, new Uint8Array(0))))) {
    const kind = keyKind(k);
    if (kind === 'baseline') baseline = true;
    else if (kind === 'marker') markers.push(k);
  }
  return { baseline, markers };
}

/**
 * The sweep state of every repository at once (one key scan of the `W` range): the ids with a
 * baseline and the ids with a marker, each key read as `readSweepState` reads one's (`keyKind`). The engine's sweep
 * passes over pools with a baseline and no marker (and no ephemeral refs) without opening them.
 */
export async function readAllSweepStates(kv: Kv): Promise<{ baseline: Set<number>; marked: Set<number> }> {
  const baseline = new Set<number>();
  const marked = new Set<number>();
  for await (const k of kv.keys(prefixRange(new Uint8Array([TAG.sweepState])))) {
    const kind = keyKind(k);
    if (kind === 'baseline') baseline.add(decodeRepoId(k.subarray(1, 5)));
    else if (kind === 'marker') marked.add(decodeRepoId(k.subarray(1, 5)));
  }
  return { baseline, marked };
}

/** True when the repository's objects must be walked: never swept, or a marker is set. */
export function needsObjectSweep(state: SweepState): boolean {
  return !state.baseline || state.markers.length > 0;
}

/** Records a completed object sweep: the baseline, and the markers it had read deleted. */
export async function sweepCompleted(kv: Kv, repoId: number, state: SweepState): Promise<void> {
  const ops: KvOp[] = state.markers.map((key) => ({ type: 'del', key }));
  if (!state.baseline) ops.push({ type: 'put', key: sweepStateKey(repoId, BASELINE), value: new Uint8Array(0) });
  for (let i = 0; i < ops.length; i += 1000) await kv.batch(ops.slice(i, i + 1000));
}
