/**
 * PackLinks (an ingest's connectivity with types) against a model: references to objects that
 * arrived before or after them, the wrong type either way, targets left outside the pack, and a
 * header announcing far more objects than arrive (room is made up to a bound, nothing else changes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PackLinks } from '../../src/repo/ingest-links.js';
import { InvalidObjectError } from '../../src/errors.js';
import type { ObjectType, Oid } from '../../src/object/oid.js';
import { oidFromBytes } from '../../src/object/oid.js';

const TYPES: ObjectType[] = ['commit', 'tree', 'blob', 'tag'];
const FROM = 'f'.repeat(40) as Oid;

/** Id number i as raw bytes inside a larger buffer (at offset 3), as tree bodies hold them. */
function idIn(i: number): Uint8Array {
  const buf = new Uint8Array(30);
  buf[3] = 0x5a;
  new DataView(buf.buffer).setUint32(7, i * 2654435761);
  buf[22] = i & 0xff;
  return buf;
}

type Op = { kind: 'arrive'; id: number; type: number } | { kind: 'ref'; id: number; type: number };

describe('PackLinks', () => {
  it('matches a model of arrivals and references, whatever the header announced', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('arrive' as const), id: fc.nat(40), type: fc.nat(3) }),
      fc.record({ kind: fc.constant('ref' as const), id: fc.nat(40), type: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.constantFrom(0, 10, 5000, 0xffffffff), (ops: Op[], announced) => {
        const links = new PackLinks();
        links.expect(announced);
        const arrived = new Map<number, number>();
        const waiting = new Map<number, Set<number>>();
        for (const o of ops) {
          const buf = idIn(o.id);
          const id = buf.subarray(3, 23);
          if (o.kind === 'arrive') {
            if (arrived.has(o.id)) continue; // ingest skips an id that arrived (links.has)
            const bad = [...(waiting.get(o.id) ?? [])].some((t) => t !== o.type);
            if (bad) {
              expect(() => links.arrived(id, TYPES[o.type]!)).toThrow(InvalidObjectError);
              return; // ingest stops at the first error
            }
            links.arrived(id, TYPES[o.type]!);
            arrived.set(o.id, o.type);
            waiting.delete(o.id);
          } else {
            const had = arrived.get(o.id);
            if (had !== undefined && had !== o.type) {
              expect(() => links.reference(FROM, 'tree', buf, 3, TYPES[o.type]!, 'entry', 0, 1)).toThrow(/is a .*, not a/);
              return;
            }
            links.reference(FROM, 'tree', buf, 3, TYPES[o.type]!, 'entry', 0, 1);
            if (had === undefined) waiting.set(o.id, (waiting.get(o.id) ?? new Set()).add(o.type));
          }
          for (const [i, t] of arrived) {
            const raw = idIn(i).subarray(3, 23);
            expect(links.has(raw)).toBe(true);
            expect(links.typeOf(raw)).toBe(TYPES[t]);
          }
        }
        const outside = links.outside().sort();
        expect(outside).toEqual([...waiting.keys()].map((i) => oidFromBytes(idIn(i), 3)).sort());
        for (const i of waiting.keys()) expect(links.has(idIn(i).subarray(3, 23))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('names the entry and both types when an object arrives as another type than a tree entry needs', () => {
    const links = new PackLinks();
    const body = new Uint8Array([...new TextEncoder().encode('docs'), ...idIn(7).subarray(3, 23)]);
    links.reference(FROM, 'tree', body, 4, 'tree', 'entry', 0, 4);
    const err = (() => {
      try {
        links.arrived(body.subarray(4, 24), 'blob');
      } catch (e) {
        return e as InvalidObjectError;
      }
      throw new Error('no error');
    })();
    expect(err.message).toContain('entry "docs"');
    expect(err.message).toContain('is a blob, not a tree');
    expect(err.details.reference).toMatchObject({ expected: 'tree', actual: 'blob', role: 'entry', name: 'docs' });
  });

  it('names the referencing object, its type, the role and the entry of the reference that waited with another type', () => {
    const links = new PackLinks();
    const treeA = 'a'.repeat(40) as Oid;
    const treeB = 'b'.repeat(40) as Oid;
    const commit = 'c'.repeat(40) as Oid;
    const body = new Uint8Array([
      ...new TextEncoder().encode('src'),
      ...idIn(1).subarray(3, 23),
      ...new TextEncoder().encode('lib'),
      ...idIn(2).subarray(3, 23),
    ]);
    // Several objects' references wait, some on the same target with the same type (recorded once).
    links.reference(treeA, 'tree', body, 3, 'tree', 'entry', 0, 3);
    links.reference(treeA, 'tree', body, 26, 'blob', 'entry', 23, 26);
    links.reference(commit, 'commit', idIn(3), 3, 'tree', 'tree');
    links.reference(treeB, 'tree', body, 26, 'blob', 'entry', 23, 26);
    links.reference(treeB, 'tree', body, 26, 'tree', 'entry', 23, 26);
    links.arrived(idIn(1).subarray(3, 23), 'tree');
    links.arrived(idIn(3).subarray(3, 23), 'tree');
    expect(links.outside()).toEqual([oidFromBytes(idIn(2), 3)]);
    const errOf = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e as InvalidObjectError;
      }
      throw new Error('no error');
    };
    // Id 2 waits as a blob (from treeA and treeB) and as a tree (from treeB): either type fails the other.
    const err = errOf(() => links.arrived(idIn(2).subarray(3, 23), 'blob'));
    expect(err.message).toBe(`tree ${treeB}: entry "lib" ${oidFromBytes(idIn(2), 3)} is a blob, not a tree`);
    expect(err.details).toMatchObject({ oid: treeB, type: 'tree', reference: { expected: 'tree', actual: 'blob', role: 'entry', name: 'lib' } });
    const other = new PackLinks();
    other.reference(commit, 'commit', idIn(4), 3, 'commit', 'parent');
    const parent = errOf(() => other.arrived(idIn(4).subarray(3, 23), 'tree'));
    expect(parent.message).toBe(`commit ${commit}: parent ${oidFromBytes(idIn(4), 3)} is a tree, not a commit`);
    expect(parent.details.reference).toEqual({ oid: oidFromBytes(idIn(4), 3), expected: 'commit', actual: 'tree', role: 'parent' });
  });
});
