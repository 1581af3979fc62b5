/**
 * scanTree (ingest's byte-level pass over tree bodies) agrees with decodeTree(body, true) on
 * every body: the same entries (kind, name, id) when valid, the same error message when not —
 * random and hostile bodies alike (bad modes, legacy modes, reserved and odd names, order,
 * truncation).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTree, ENTRY_GITLINK, ENTRY_TREE, nameFromBytes, scanTree } from '../../src/object/tree.js';
import { concat, toHex, utf8 } from '../../src/platform/bytes.js';

const MODES = ['100644', '100755', '120000', '40000', '040000', '160000', '100664', '100640', '100600', '100666', '4000', '1006440', '10064x', '', '0'];
const NAMES = [
  'a',
  'b',
  'a.b',
  'a0',
  '.git',
  '.GIT',
  'git~1',
  'GIT~1',
  '.gitmodules',
  '.',
  '..',
  '',
  'x/y',
  'g',
  'Gx',
  '.hidden',
  'é',
  '\u200c.git',
  '.g\u200cit',
  'zz',
  'a b',
  'git',
  'gitk',
  'git~',
  'Git~1.',
  'gi~1',
  'g\u00e9~1',
  'g\u00e9t~1',
  '.g',
  '.Gx',
  '.\u00e9',
  '.\u200cgit',
  'grep.c',
  '.git.',
  '.git ',
  '.git::$INDEX_ALLOCATION',
  '.GIT:$DATA',
  '.gitignore',
  '.gitattributes',
  '.git\u200c',
];

const entryArb = fc.record({
  mode: fc.constantFrom(...MODES),
  name: fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-zA-Z0-9._~-]{1,5}$/)),
  id: fc.uint8Array({ minLength: 20, maxLength: 20 }),
});

function body(entries: { mode: string; name: string; id: Uint8Array }[], cut: number): Uint8Array {
  const b = concat(entries.map((e) => concat([utf8(`${e.mode} ${e.name}\0`), e.id])));
  return cut > 0 ? b.subarray(0, Math.max(0, b.length - cut)) : b;
}

function viaScan(b: Uint8Array): { kind: number; name: string; oid: string }[] | string {
  const out: { kind: number; name: string; oid: string }[] = [];
  try {
    scanTree(b, (at, kind, s, e) => out.push({ kind, name: nameFromBytes(b.subarray(s, e)), oid: toHex(b, at, at + 20) }));
    return out;
  } catch (err) {
    return (err as Error).message;
  }
}

function viaDecode(b: Uint8Array): { kind: number; name: string; oid: string }[] | string {
  try {
    return decodeTree(b, true).map((e) => ({ kind: e.mode === '40000' ? ENTRY_TREE : e.mode === '160000' ? ENTRY_GITLINK : 0, name: e.name, oid: e.oid }));
  } catch (err) {
    return (err as Error).message;
  }
}

describe('scanTree', () => {
  it('agrees with the strict decoder on random and hostile tree bodies', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 8 }), fc.boolean(), fc.nat(25), (entries, sorted, cut) => {
        const list = sorted ? [...entries].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) : entries;
        const b = body(list, cut % 3 === 0 ? cut : 0);
        expect(viaScan(b)).toEqual(viaDecode(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('reports kinds by mode, legacy spellings included', () => {
    const id = new Uint8Array(20).fill(7);
    const b = body(
      [
        { mode: '100644', name: 'a', id },
        { mode: '040000', name: 'b', id },
        { mode: '160000', name: 'c', id },
        { mode: '100664', name: 'd', id },
        { mode: '40000', name: 'e', id },
      ],
      0,
    );
    expect((viaScan(b) as { kind: number }[]).map((e) => e.kind)).toEqual([0, ENTRY_TREE, ENTRY_GITLINK, 0, ENTRY_TREE]);
  });
});
