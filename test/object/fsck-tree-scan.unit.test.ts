/**
 * `FsckSession.scanTree` (ingest's one pass over a pushed tree) answers as the two passes it
 * replaced: object/tree.ts `scanTree` (the same entries visited, the same InvalidObjectError
 * message at the same entry) followed by `checkObject` (the same report: problems in order,
 * `.gitmodules` / `.gitattributes` blobs named), on random and hostile bodies, strict or not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkObject, FsckSession } from '../../src/object/fsck.js';
import { scanTree } from '../../src/object/tree.js';
import { concat, utf8 } from '../../src/platform/bytes.js';

const MODES = ['100644', '100755', '120000', '40000', '040000', '160000', '100664', '100640', '100600', '4000', '100666', ''];
const NAMES = ['a', 'a.b', 'a-b', 'b', '.gitmodules', '.gitattributes', '.gitignore', '.mailmap', '.git', 'git~1', 'x\\.git', '.', '..', 'x/y', 'é', ''];
const ID = fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.constant(new Uint8Array(20)), fc.constant(new Uint8Array(20).fill(7)));
const entryArb = fc.record({ mode: fc.constantFrom(...MODES), name: fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-c.]{1,3}$/)), id: ID });

type Visit = [number, number, number, number];

function twoPasses(b: Uint8Array, strict: boolean): unknown {
  const visits: Visit[] = [];
  try {
    scanTree(b, (at, kind, s, e) => visits.push([at, kind, s, e]));
  } catch (err) {
    return { error: (err as Error).message, visits };
  }
  return { report: checkObject('tree', b, { strict }), visits };
}

function onePass(b: Uint8Array, strict: boolean): unknown {
  const visits: Visit[] = [];
  try {
    const report = new FsckSession({ strict }).scanTree(b, (at, kind, s, e) => visits.push([at, kind, s, e]));
    return { report, visits };
  } catch (err) {
    return { error: (err as Error).message, visits };
  }
}

describe('FsckSession.scanTree', () => {
  it('gives the entries, the error and the report of scanTree then checkObject', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 7 }), fc.boolean(), fc.boolean(), (entries, sorted, strict) => {
        const list = sorted ? [...entries].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) : entries;
        const b = concat(list.map((e) => concat([utf8(`${e.mode} ${e.name}\0`), e.id])));
        expect(onePass(b, strict)).toEqual(twoPasses(b, strict));
      }),
      { numRuns: 4000 },
    );
  });

  it('reports what only git refuses: a file and a tree of one name apart, a legacy mode, a .gitmodules symlink', () => {
    const id = new Uint8Array(20).fill(3);
    const b = concat(
      [
        ['100644', '.gitmodules'],
        ['100664', 'a'],
        ['100644', 'a.b'],
        ['40000', 'a'],
        ['120000', 'b'],
      ].map(([m, n]) => concat([utf8(`${m} ${n}\0`), id])),
    );
    const ids = (r: unknown) => (r as { report: { problems: { id: string }[] } }).report.problems.map((p) => p.id);
    expect(ids(onePass(b, true))).toEqual(['badFilemode', 'duplicateEntries']);
    expect(ids(onePass(b, false))).toEqual(['duplicateEntries']);
    expect(onePass(b, true)).toEqual(twoPasses(b, true));
  });
});
