/**
 * Ingest reads a tree that arrived as a delta of a tree scanned earlier in the same pack with
 * fewer lookups: the entries lying wholly in the bytes the delta copies from the same offsets of
 * its base (pack/delta.ts `deltaPrefix`) are the base's, whose references were recorded then.
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
import { applyDelta, createDelta, deltaPrefix } from '../../src/pack/delta.js';
import { encodePackEntry, copyOp, ofsDelta, varint, writePackSync } from '../pack/crafted-packs.js';
import { isLevelGitError } from '../../src/errors.js';

const enc = (s: string) => utf8(s);
type Row = [mode: string, name: string, id: Uint8Array];
const tree = (rows: Row[]) => concat(rows.map(([m, n, id]) => concat([enc(`${m} ${n}\0`), id])));
const idOf = (type: 'blob' | 'tree', body: Uint8Array) => Buffer.from(hashObject(type, body), 'hex');

describe('deltaPrefix', () => {
  it("is a prefix of the result that is the base's, whatever the delta", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.nat(300), (base, tail, keep) => {
        const target = concat([base.subarray(0, keep), tail]);
        const delta = createDelta(base, target);
        const p = deltaPrefix(delta);
        expect(applyDelta(base, delta)).toEqual(target);
        expect(p).toBeLessThanOrEqual(target.length);
        expect(target.subarray(0, p)).toEqual(base.subarray(0, p));
      }),
      { numRuns: 500 },
    );
  });

  it('stops at the first op that is not a copy from where the result stands', () => {
    const base = new Uint8Array(100).map((_, i) => i);
    const delta = (ops: number[], size: number) => Uint8Array.from([...varint(100), ...varint(size), ...ops]);
    expect(deltaPrefix(delta([...copyOp(0, 10), ...copyOp(10, 5), ...copyOp(40, 5)], 20))).toBe(15);
    expect(deltaPrefix(delta([2, 7, 7, ...copyOp(2, 10)], 12))).toBe(0);
    expect(deltaPrefix(delta([...copyOp(1, 10)], 10))).toBe(0);
    expect(deltaPrefix(delta([...copyOp(0, 30), 1, 9, ...copyOp(31, 5)], 36))).toBe(30);
    expect(applyDelta(base, delta([...copyOp(0, 30), 1, 9, ...copyOp(31, 5)], 36)).subarray(0, 30)).toEqual(base.subarray(0, 30));
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
