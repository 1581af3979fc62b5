/**
 * The pure algorithms of src/diff/ on their own (unit tier: no git): the line diff's changes
 * turn the old lines into the new ones and keep git's ranges; hunks and the unified text follow
 * git's rules; the three-way merge takes one-sided changes and refuses overlapping ones;
 * binary detection looks at the first 8,000 bytes; exact renames pair as git pairs them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isBinary } from '../../src/diff/binary.js';
import { mergeLines } from '../../src/diff/merge3.js';
import { findRenames } from '../../src/diff/renames.js';
import { formatHunks, makeHunks, quotePath } from '../../src/diff/unified.js';
import { diffLines, splitLines } from '../../src/diff/xdiff.js';

const linesArb = fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', '\n', '  x\n', 'end'), { maxLength: 40 });

function apply(a: string[], b: string[], changes: ReturnType<typeof diffLines>): string[] {
  const out: string[] = [];
  let i = 0;
  for (const c of changes) {
    out.push(...a.slice(i, c.i1), ...b.slice(c.i2, c.i2 + c.chg2));
    i = c.i1 + c.chg1;
  }
  return [...out, ...a.slice(i)];
}

describe('line diff', () => {
  it('changes turn the old lines into the new ones', () => {
    fc.assert(
      fc.property(linesArb, linesArb, fc.boolean(), (a, b, indent) => {
        const changes = diffLines(a, b, { indentHeuristic: indent });
        expect(apply(a, b, changes)).toEqual(b);
        // Unchanged lines really are the same.
        let i = 0;
        let j = 0;
        for (const c of changes) {
          expect(c.i1 - i).toBe(c.i2 - j);
          for (; i < c.i1; i++, j++) expect(a[i]).toBe(b[j]);
          i = c.i1 + c.chg1;
          j = c.i2 + c.chg2;
        }
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('the histogram algorithm (git merges use it) also turns the old lines into the new ones', () => {
    fc.assert(
      fc.property(linesArb, linesArb, (a, b) => {
        expect(apply(a, b, diffLines(a, b, { histogram: true }))).toEqual(b);
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  it('splits records after each newline and keeps a last line without one', () => {
    expect(splitLines(new TextEncoder().encode('a\r\nb\nc'))).toEqual(['a\r\n', 'b\n', 'c']);
    expect(splitLines(new Uint8Array(0))).toEqual([]);
  });

  it('prints hunks with git counts, funcnames and the no-newline marker', () => {
    const a = ['int main() {\n', '  a;\n', '  b;\n', '  c;\n', '  d;\n', '}'];
    const b = ['int main() {\n', '  a;\n', '  b;\n', '  c;\n', '  D;\n', '}'];
    const text = formatHunks(makeHunks(a, b, diffLines(a, b)));
    expect(text).toBe('@@ -2,5 +2,5 @@ int main() {\n   a;\n   b;\n   c;\n-  d;\n+  D;\n }\n\\ No newline at end of file\n');
    expect(formatHunks(makeHunks([], ['x\n'], diffLines([], ['x\n'])))).toBe('@@ -0,0 +1 @@\n+x\n');
    expect(quotePath('a b')).toBe('a b');
    expect(quotePath('tab\there')).toBe('"tab\\there"');
  });
});

describe('three-way merge of lines', () => {
  it('takes a change made on one side only', () => {
    fc.assert(
      fc.property(linesArb, linesArb, (base, side) => {
        expect(mergeLines(base, side, base)).toEqual({ clean: true, conflicts: 0, lines: side });
        expect(mergeLines(base, base, side)).toEqual({ clean: true, conflicts: 0, lines: side });
        expect(mergeLines(base, side, side).clean).toBe(true);
      }),
      { numRuns: 200, seed: 2 },
    );
  });

  it('merges separate edits and refuses overlapping or touching ones', () => {
    const base = ['1\n', '2\n', '3\n', '4\n', '5\n', '6\n'];
    expect(mergeLines(base, ['1\n', 'X\n', '3\n', '4\n', '5\n', '6\n'], ['1\n', '2\n', '3\n', '4\n', 'Y\n', '6\n'])).toMatchObject({
      clean: true,
      lines: ['1\n', 'X\n', '3\n', '4\n', 'Y\n', '6\n'],
    });
    expect(mergeLines(base, ['1\n', 'X\n', '3\n', '4\n', '5\n', '6\n'], ['1\n', 'Y\n', '3\n', '4\n', '5\n', '6\n']).clean).toBe(false);
    // Adjacent edits conflict in git too.
    expect(mergeLines(base, ['1\n', 'X\n', '3\n', '4\n', '5\n', '6\n'], ['1\n', '2\n', 'Y\n', '4\n', '5\n', '6\n']).clean).toBe(false);
  });

  it('diffs as merge-ort does (histogram) and writes conflict markers as git does', () => {
    // git merge-tree conflicts here: histogram anchors on the unique lines, Myers would merge cleanly.
    const base = ['c\n', '    return 0;\n', 'c\n', '    return 0;\n', '    return 0;'];
    const ours = ['c\n', 'moved\n', 'c\n', '    return 0;\n', '    return 0;'];
    const theirs = ['c\n', 'moved\n', 'c\n', '    return 0;\n', '    return 0;b\n', '_init:\n', 'end\n'];
    const r = mergeLines(base, ours, theirs, { size: 9, ours: 'Temporary merge branch 1', theirs: 'Temporary merge branch 2' });
    expect(r.clean).toBe(false);
    expect(r.lines.join('')).toBe(
      'c\nmoved\nc\n    return 0;\n<<<<<<<<< Temporary merge branch 1\n    return 0;\n=========\n    return 0;b\n_init:\nend\n>>>>>>>>> Temporary merge branch 2\n',
    );
    // CRLF files get CRLF markers; identical parts of a conflict are taken out of it.
    const crlf = mergeLines(['a\r\n', 'b\r\n'], ['a\r\n', 'x\r\n', 'same\r\n'], ['a\r\n', 'y\r\n', 'same\r\n'], { size: 7, ours: 'o', theirs: 't' });
    expect(crlf.lines.join('')).toBe('a\r\n<<<<<<< o\r\nx\r\n=======\r\ny\r\n>>>>>>> t\r\nsame\r\n');
  });
});

describe('binary detection and renames', () => {
  it('looks for a NUL in the first 8,000 bytes only', () => {
    const late = new Uint8Array(8001).fill(65);
    late[8000] = 0;
    expect(isBinary(late)).toBe(false);
    late[7999] = 0;
    expect(isBinary(late)).toBe(true);
  });

  it('pairs exact renames as git does: unused sources, the same basename first, same mode for symlinks', async () => {
    const srcs = [
      { path: 'a/x.txt', mode: '100644', oid: '1' },
      { path: 'b/y.txt', mode: '100644', oid: '1' },
      { path: 'l', mode: '120000', oid: '2' },
    ];
    const dsts = [
      { path: 'c/y.txt', mode: '100755', oid: '1' },
      { path: 'd/z.txt', mode: '100644', oid: '1' },
      { path: 'm', mode: '100644', oid: '2' },
    ];
    expect(await findRenames(srcs, dsts)).toEqual([
      { src: 1, dst: 0, score: 60000 },
      { src: 0, dst: 1, score: 60000 },
    ]);
  });
});
