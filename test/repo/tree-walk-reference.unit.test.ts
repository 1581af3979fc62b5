/**
 * The raw scans of long walks: tree-walk.ts RawTrees (a tree walk), and a scan beside a base
 * (object/tree.ts scanBeside over tree-walk.ts ReferenceTrees, as the sweep's mark runs it),
 * which compares a tree rebuilt from a delta with its base when the base was fully met,
 * skipping the entries the two share. Whatever the base hint — the tree's real base, an
 * unrelated tree, a tree whose bytes the new one copies from the middle of an entry, a base
 * some of whose entries the walk declined — each must visit exactly what a scan of each entry
 * against `seen` visits, in the same order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Oid } from '../../src/object/oid.js';
import { toHex } from '../../src/platform/bytes.js';
import { ENTRY_GITLINK, ENTRY_TREE, rawEntryKind, scanBeside } from '../../src/object/tree.js';
import { RawTrees, ReferenceTrees } from '../../src/repo/tree-walk.js';
import { type Entry, MODES, encode, modelScan, poolId } from './tree-bodies.js';

/** How a step builds its tree from earlier ones, and which earlier tree it names as its base. */
const step = fc.record({
  from: fc.nat(),
  kind: fc.constantFrom('fresh', 'edit', 'midEntry', 'same'),
  edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('id', 'drop', 'insert', 'rename', 'mode'), v: fc.nat(), id: fc.nat(40) }), { maxLength: 6 }),
  fresh: fc.array(fc.record({ mode: fc.constantFrom(...MODES), name: fc.stringMatching(/^[a-e.]{1,6}$/), id: fc.nat(40) }), { maxLength: 12 }),
  base: fc.oneof(fc.constant(-1), fc.nat()),
  cut: fc.nat(),
});

describe('raw tree scans, beside a base or not', () => {
  it('visit what a scan of every entry against seen visits, whatever the base hint', () => {
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
          const raw = new RawTrees(seen);
          const besideSeen = new Set<Oid>(haves);
          const besideCalls: string[] = [];
          const reference = new ReferenceTrees();
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
            const base = s.base < 0 || trees.length < 2 ? undefined : trees[s.base % (trees.length - 1)]!.oid;
            const record = (into: string[]) => (id: Oid, tree: boolean) => {
              into.push(`${id}:${tree}`);
              return !declined.has(id);
            };
            raw.scan(oid, body, record(calls));
            // As the sweep's mark scans: beside the base when the base was fully met, kept once fully met.
            let complete = true;
            scanBeside(body, reference.get(base), (start, sp, at) => {
              const kind = rawEntryKind(body, start, sp);
              const id = toHex(body.subarray(at, at + 20)) as Oid;
              if (kind === ENTRY_GITLINK || besideSeen.has(id)) return;
              if (record(besideCalls)(id, kind === ENTRY_TREE)) besideSeen.add(id);
              else complete = false;
            });
            if (complete) reference.keep(oid, body);
            modelScan(body, modelSeen, record(modelCalls));
          });
          expect(calls).toEqual(modelCalls);
          expect([...seen].sort()).toEqual([...modelSeen].sort());
          expect(besideCalls).toEqual(modelCalls);
          expect([...besideSeen].sort()).toEqual([...modelSeen].sort());
        },
      ),
      { numRuns: 500 },
    );
  });
});
