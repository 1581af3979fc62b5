/**
 * The raw scan of long walks (tree-walk.ts RawTrees.scan: plans and the sweep's mark), over
 * trees made from each other by edits, renames, copies from the middle of an entry, and
 * entries the walk declines: it must visit exactly what a scan of each entry against the set
 * of what was met visits, in the same order, and record exactly what was accepted as met.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Oid, oidToBytes } from '../../src/object/oid.js';
import { toHex } from '../../src/platform/bytes.js';
import { OidSet } from '../../src/repo/oid-set.js';
import { RawTrees } from '../../src/repo/tree-walk.js';
import { type Entry, MODES, encode, modelScan, poolId } from './tree-bodies.js';

/** How a step builds its tree from earlier ones. */
const step = fc.record({
  from: fc.nat(),
  kind: fc.constantFrom('fresh', 'edit', 'midEntry', 'same'),
  edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('id', 'drop', 'insert', 'rename', 'mode'), v: fc.nat(), id: fc.nat(40) }), { maxLength: 6 }),
  fresh: fc.array(fc.record({ mode: fc.constantFrom(...MODES), name: fc.stringMatching(/^[a-e.]{1,6}$/), id: fc.nat(40) }), { maxLength: 12 }),
  cut: fc.nat(),
});

describe('raw tree scans', () => {
  it('visit what a scan of every entry against what was met visits, and record what was accepted', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(40), { maxLength: 8 }),
        fc.array(fc.nat(40), { maxLength: 4 }),
        (steps, declinedIds, haveIds) => {
          const declined = new Set(declinedIds.map((n) => toHex(poolId(n)) as Oid));
          const haves = haveIds.map((n) => toHex(poolId(n)) as Oid);
          const trees: { oid: Oid; entries: Entry[]; body: Uint8Array }[] = [];
          const seen = new Set<Oid>(haves);
          const modelSeen = new Set<Oid>(haves);
          const calls: string[] = [];
          const modelCalls: string[] = [];
          const met = new OidSet();
          for (const n of haveIds) met.add(poolId(n));
          const raw = new RawTrees(met);
          steps.forEach((s, n) => {
            const prev = trees.length > 0 ? trees[s.from % trees.length]! : undefined;
            let entries: Entry[] = s.fresh.map((f) => ({ mode: f.mode, name: f.name, id: poolId(f.id) }));
            let body: Uint8Array;
            if (prev !== undefined && s.kind !== 'fresh') {
              entries = prev.entries.map((e) => ({ ...e }));
              for (const ed of s.kind === 'edit' ? s.edits : []) {
                const at = entries.length === 0 ? 0 : ed.at % entries.length;
                if (ed.op === 'insert' || entries.length === 0)
                  entries.splice(at, 0, { mode: MODES[ed.v % MODES.length]!, name: `n${ed.v}`, id: poolId(ed.id) });
                else if (ed.op === 'drop') entries.splice(at, 1);
                else if (ed.op === 'id') entries[at]!.id = poolId(ed.id);
                else if (ed.op === 'rename') entries[at]!.name = `r${ed.v}`;
                else entries[at]!.mode = MODES[ed.v % MODES.length]!;
              }
            }
            body = encode(entries);
            if (prev !== undefined && s.kind === 'midEntry' && entries.length > 0 && prev.body.length >= 20) {
              // An id made of base bytes copied from wherever (the middle of an entry): a crafted delta's copy.
              const at = s.cut % (prev.body.length - 19);
              entries[s.cut % entries.length]!.id = prev.body.slice(at, at + 20);
              body = encode(entries);
            }
            const oid = `t${n}` as Oid;
            trees.push({ oid, entries, body });
            const record = (into: string[]) => (id: Oid, tree: boolean) => {
              into.push(`${id}:${tree}`);
              return !declined.has(id);
            };
            raw.scan(oid, body, (buf, at, tree) => {
              const id = toHex(buf.subarray(at, at + 20)) as Oid;
              if (!record(calls)(id, tree)) return false;
              seen.add(id);
              return true;
            });
            modelScan(body, modelSeen, record(modelCalls));
          });
          expect(calls).toEqual(modelCalls);
          expect([...seen].sort()).toEqual([...modelSeen].sort());
          // What the scan records as met is what it accepted (and the ids met before it).
          for (const id of seen) expect(met.has(oidToBytes(id))).toBe(true);
          expect(met.size).toBe(seen.size);
        },
      ),
      { numRuns: 500 },
    );
  });
});
