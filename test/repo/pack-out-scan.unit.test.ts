/**
 * Packs whose deltas are found by one key-ordered read of the store's `D` range (pack-out.ts
 * `scanDeltas`, what a full clone from a clone plan uses) are the packs found by a lookup per
 * id, byte for byte: for a pack of the whole store (the range read to its end, no lookup), for
 * a small pack of a large store (the read stops early and the rest is looked up), with nothing
 * kept between the passes, with thin bases, and with the ids given raw instead of hex.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { oidToBytes, type Oid } from '../../src/object/oid.js';
import { packBytes, type PackBytesOptions } from '../../src/repo/pack-out.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

function raw(oids: readonly Oid[]): Uint8Array {
  const out = new Uint8Array(oids.length * 20);
  oids.forEach((o, i) => out.set(oidToBytes(o), i * 20));
  return out;
}

describe('packs of a scanned delta range', () => {
  it('are the packs of one lookup per id, whether the scan reads the whole range or stops early', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    try {
      const repo = await engine.createRepo('scan');
      const lines = Array.from({ length: 120 }, (_, i) => `line ${i} of the file that is edited turn after turn`);
      const tips: string[] = [];
      // Files edited turn after turn: stored deltas, chains past MAX_CHAIN, other files whole.
      for (let t = 0; t < 70; t++) {
        lines[(t * 31) % lines.length] = `edited in turn ${t}`;
        const changes = [
          { path: 'a.txt', content: lines.join('\n') + '\n' },
          { path: 'b.txt', content: [...lines].reverse().join('\n') + '\n' },
          { path: `notes/n${t}.txt`, content: `note ${t}\n` },
        ];
        tips.push((await repo.commit({ branch: 'main', message: `turn ${t}`, author: AUTHOR, changes })).sha);
      }
      const { objects } = internalsOf(repo);
      let stored = 0;
      for await (const batch of objects.deltaRange()) stored += batch.length;
      expect(stored).toBeGreaterThan(100);
      let lookups = 0;
      const lookup = objects.deltaEntriesAt.bind(objects);
      objects.deltaEntriesAt = (ids, at) => {
        lookups++;
        return lookup(ids, at);
      };
      const same = async (oids: readonly Oid[], thin: ReadonlySet<Oid> | undefined, options: PackBytesOptions) => {
        lookups = 0;
        const looked = await collectBytes(packBytes(objects, oids, true, thin, options));
        const lookedUp = lookups;
        lookups = 0;
        const scanned = await collectBytes(packBytes(objects, raw(oids), true, thin, { ...options, scanDeltas: true }));
        expect(Buffer.from(scanned).equals(Buffer.from(looked))).toBe(true);
        return { lookedUp, scanLookups: lookups, pack: scanned };
      };
      const all = (await repo.planPack({ wants: [tips.at(-1)!] as never, ofsDelta: true })).oids;
      // The whole store: one read of the range, not one lookup.
      const whole = await same(all, undefined, { ofsDelta: true });
      expect(whole.lookedUp).toBeGreaterThan(0);
      expect(whole.scanLookups).toBe(0);
      expect((await same(all, undefined, {})).scanLookups).toBe(0);
      // Nothing kept between the passes: the deltas are read again (by lookup), the same pack.
      expect((await same(all, undefined, { ofsDelta: true, keepDeltaBytes: 0, spillDeltaBytes: 0 })).scanLookups).toBeGreaterThan(0);
      // A small pack of a larger store: the scan stops and looks the rest up.
      const early = (await repo.planPack({ wants: [tips[8]!] as never, ofsDelta: true })).oids;
      expect((await same(early, undefined, { ofsDelta: true })).scanLookups).toBeGreaterThan(0);
      // Thin: the objects after turn 60 against the client's turn 60.
      const fetch = await repo.planPack({ wants: [tips.at(-1)!] as never, haves: [tips[60]!] as never, ofsDelta: true });
      const thin = new Set((await repo.planPack({ wants: [tips[60]!] as never })).oids);
      const thinPack = await same(fetch.oids, thin, { ofsDelta: true });
      expect(thinPack.lookedUp).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });
});
