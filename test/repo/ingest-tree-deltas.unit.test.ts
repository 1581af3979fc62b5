/**
 * Ingest reads a tree that arrived as a delta of a tree scanned earlier in the same pack with
 * fewer checks and lookups: the entries that are, at an entry boundary, those of its base
 * (runs from pack/delta.ts `deltaCopies`, object/tree-skips.ts) were checked and recorded then.
 * The base is only a hint: whatever the delta (git's encoder, a copy that stops in the middle of
 * an entry or of an id, a base that is an unrelated tree), a pack is accepted or refused exactly
 * as the same pack with the tree sent whole — missing objects, wrong types and bad names with
 * the same error codes and details — on the inline reader and in the worker.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { concat, utf8 } from '../../src/platform/bytes.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { applyDelta, createDelta, deltaCopies } from '../../src/pack/delta.js';
import { encodePackEntry, copyOp, ofsDelta, varint, writePackSync } from '../pack/crafted-packs.js';
import { isLevelGitError } from '../../src/errors.js';

const enc = (s: string) => utf8(s);
type Row = [mode: string, name: string, id: Uint8Array];
const tree = (rows: Row[]) => concat(rows.map(([m, n, id]) => concat([enc(`${m} ${n}\0`), id])));
const idOf = (type: 'blob' | 'tree', body: Uint8Array) => Buffer.from(hashObject(type, body), 'hex');

describe('deltaCopies', () => {
  it("names runs of the result that are the base's bytes, in order, whatever the delta", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 100 }), fc.nat(600), fc.nat(600), (base, insert, cut, from) => {
        const target = concat([base.subarray(0, cut), insert, base.subarray(from % (base.length + 1))]);
        const delta = createDelta(base, target);
        expect(applyDelta(base, delta)).toEqual(target);
        const runs = deltaCopies(delta) ?? new Int32Array(0);
        let last = 0;
        for (let r = 0; r < runs.length; r += 3) {
          const [s, e, shift] = [runs[r]!, runs[r + 1]!, runs[r + 2]!];
          expect(s).toBeGreaterThanOrEqual(last);
          expect(e - s).toBeGreaterThanOrEqual(64);
          expect(e).toBeLessThanOrEqual(target.length);
          expect(target.subarray(s, e)).toEqual(base.subarray(s + shift, e + shift));
          last = e;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('joins copies that go on at the same shift, and leaves out short ones', () => {
    const delta = (ops: number[], size: number) => Uint8Array.from([...varint(300), ...varint(size), ...ops]);
    // 0..100 then 100..170 from the same offsets: one run; 10 inserted bytes; 200..300 to 180..280.
    expect([...deltaCopies(delta([...copyOp(0, 100), ...copyOp(100, 70), 10, ...new Array(10).fill(7), ...copyOp(200, 100)], 280))!]).toEqual([
      0, 170, 0, 180, 280, 20,
    ]);
    // A copy of 63 bytes is too short; one from another shift starts a new run.
    expect([...deltaCopies(delta([...copyOp(0, 63), ...copyOp(100, 64)], 127))!]).toEqual([63, 127, 37]);
    expect(deltaCopies(delta([...copyOp(5, 63)], 63))).toBeUndefined();
  });
});

/** What indexPack answered: 'ok', or the error's code with what names the culprit. */
async function outcome(pack: Uint8Array, worker: boolean): Promise<unknown> {
  const engine = await openEngine({ db: new MemoryLevel() });
  try {
    const repo = await engine.createRepo('r');
    await repo.indexPack([pack], worker ? { inlineMaxBytes: 0 } : {});
    return 'ok';
  } catch (err) {
    if (!isLevelGitError(err)) throw err;
    const d = err.details as Record<string, unknown>;
    return { code: err.code, missing: d.missing, name: d.name, id: d.id, oid: d.oid, reference: d.reference };
  } finally {
    await engine.close();
  }
}

/** What is done to the base's entries to make the tree under test. */
type Change = 'none' | 'missing' | 'missingSharedStart' | 'badName' | 'asTree' | 'missingAdded';

describe('ingest of tree deltas', () => {
  it('refuses and accepts exactly as for the tree sent whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom<Change>('none', 'missing', 'missingSharedStart', 'badName', 'asTree', 'missingAdded'),
        fc.nat(),
        fc.constantFrom('git', 'cut', 'unrelated'),
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        async (n, change, at, how, cut, blobsFirst, worker) => {
          const blobs = Array.from({ length: n }, (_, k) => enc(`content ${k}\n`));
          const names = blobs.map((_, k) => `f${String(k).padStart(2, '0')}`);
          const baseRows: Row[] = blobs.map((b, k) => ['100644', names[k]!, idOf('blob', b)]);
          const base = tree(baseRows);
          const i = at % n;
          const rows = baseRows.map((r) => [...r] as Row);
          // A blob no one sends; its first bytes those of the id it replaces where asked.
          const absent = idOf('blob', enc(`absent ${i}`));
          if (change === 'missing') rows[i]![2] = absent;
          if (change === 'missingSharedStart') rows[i]![2] = concat([rows[i]![2].subarray(0, 12), absent.subarray(12)]);
          if (change === 'badName') rows.push(['100644', 'git~1', rows[0]![2]]);
          if (change === 'asTree') rows[i]![0] = '40000';
          if (change === 'missingAdded') rows.push(['100644', 'zz', absent]);
          const target = tree(rows);
          // The trees of the pack: the base, an unrelated tree (another name, other ids), and
          // the tree under test, whole or as a delta.
          const other = tree([['100644', names[0]!, idOf('blob', blobs[1 % n]!)]]);
          const blobEntries = blobs.map((b) => encodePackEntry('blob', b));
          const build = (last: Uint8Array | ((sizes: number[]) => Uint8Array)) => {
            const before = [...(blobsFirst ? blobEntries : []), encodePackEntry('tree', base), encodePackEntry('tree', other)];
            const sizes = before.map((e) => e.length);
            const entries = [...before, typeof last === 'function' ? last(sizes) : last, ...(blobsFirst ? [] : blobEntries)];
            return writePackSync(entries);
          };
          const whole = build(encodePackEntry('tree', target));
          let delta: Uint8Array;
          let baseIndex = blobsFirst ? n : 0;
          if (how === 'unrelated') {
            delta = createDelta(other, target);
            baseIndex += 1;
          } else if (how === 'git') {
            delta = createDelta(base, target);
          } else {
            // Copy a prefix the two share, however long (mid-entry, mid-id), then insert the rest.
            let common = 0;
            while (common < base.length && common < target.length && base[common] === target[common]) common++;
            const k = common === 0 ? 0 : cut % (common + 1);
            const ops: number[] = [...varint(base.length), ...varint(target.length)];
            if (k > 0) ops.push(...copyOp(0, k));
            for (let p = k; p < target.length; p += 127) {
              const piece = target.subarray(p, Math.min(p + 127, target.length));
              ops.push(piece.length, ...piece);
            }
            delta = Uint8Array.from(ops);
          }
          const deltaPack = build((sizes) =>
            ofsDelta(
              sizes.slice(baseIndex).reduce((a, b) => a + b, 0),
              delta,
            ),
          );
          const expected = await outcome(whole, false);
          expect(await outcome(deltaPack, worker)).toEqual(expected);
          if (change === 'none') expect(expected).toBe('ok');
          if (change.startsWith('missing'))
            expect(expected).toMatchObject({
              code: 'ERR_MISSING_OBJECTS',
              missing: [Buffer.from(change === 'missingSharedStart' ? rows[i]![2] : absent).toString('hex')],
            });
          if (change === 'badName') expect(expected).toMatchObject({ code: 'ERR_INVALID_OBJECT' });
          if (change === 'asTree')
            expect(expected).toMatchObject({ code: 'ERR_INVALID_OBJECT', reference: { oid: hashObject('blob', blobs[i]!) as Oid, expected: 'tree' } });
        },
      ),
      { numRuns: 60 },
    );
  });
});
