/**
 * Reach records (repo/chain-reach.ts): an ingest records, for every whole object the chains of
 * its stored deltas end at, the longest of them where it is 8 or more (none means less), and
 * marks a pool it wrote first as complete;
 * a later pack's deltas on stored objects raise the record of the chain's root, never lower it.
 * The sweep deletes a record with its object.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { ChainBook } from '../../src/repo/chain-reach.js';
import { type Oid, hashObject, oidFromBytes, oidToBytes } from '../../src/object/oid.js';
import { createDelta } from '../../src/pack/delta.js';
import { reachKey } from '../../src/storage/keys.js';
import { encodePackEntry, ofsDelta, refDelta, writePackSync } from '../pack/crafted-packs.js';

const enc = new TextEncoder();

/** A blob of 300 numbered lines with line `edited` changed. */
function version(edited: number, tag: string): Uint8Array {
  return enc.encode(Array.from({ length: 300 }, (_, i) => (i === edited ? `line ${i} ${tag} edited\n` : `line ${i} of ${tag}\n`)).join(''));
}

/** A pack of `entries` built in order, ofs-deltas naming the entry before by distance. */
class PackBuilder {
  readonly entries: Uint8Array[] = [];
  #offset = 12;

  add(e: Uint8Array): number {
    const at = this.#offset;
    this.entries.push(e);
    this.#offset += e.length;
    return at;
  }

  /** A chain of `n` ofs-deltas after a whole first version; the ids, first version first. */
  chain(n: number, tag: string): Oid[] {
    let prev = version(0, tag);
    let at = this.add(encodePackEntry('blob', prev));
    const ids = [hashObject('blob', prev)];
    for (let k = 1; k <= n; k++) {
      const next = version(k, tag);
      at = this.add(ofsDelta(this.#offset - at, createDelta(prev, next)));
      ids.push(hashObject('blob', next));
      prev = next;
    }
    return ids;
  }

  pack(): Uint8Array {
    return writePackSync(this.entries);
  }
}

describe('ChainBook', () => {
  it('follows each delta to its root and keeps each root the longest chain ending at it', () => {
    const book = new ChainBook();
    const [r, a, b, c, s, t, u] = ['1', 'a', 'b', 'c', '5', '7', 'e'].map((x) => x.repeat(40) as Oid);
    book.link(a!, r!, 1);
    book.link(b!, a!, 2);
    book.link(c!, a!, 2);
    // A stored object read as a base: 4 links from `s`; a delta of it is 5.
    book.stored(t!, 4, s!);
    book.link(u!, t!, 5);
    expect([book.depth(r!), book.depth(a!), book.depth(b!), book.depth(u!)]).toEqual([0, 1, 2, 5]);
    expect(book.has(r!)).toBe(false);
    expect(book.has(t!)).toBe(true);
    expect(new Map([...book.roots()].map(([id, n]) => [oidFromBytes(id), n]))).toEqual(
      new Map([
        [r!, 2],
        [s!, 5],
      ]),
    );
  });
});

describe('reach records', () => {
  it('are written by an ingest for the roots of its chains, raised by a later one, deleted with their object', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), ingest: { worker: 'inline' }, deltaCacheBytes: 0, packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('r');
    const { objects } = internalsOf(repo);
    const pool = objects.repoId;
    const record = async (oid: Oid) => (await objects.kv.get(reachKey(pool, oidToBytes(oid))))?.[0];

    // A chain of 60: stored chains are cut at 50, so the 51st version is stored whole and ends the rest.
    const first = new PackBuilder();
    const chain = first.chain(60, 'a');
    const short = first.chain(7, 'b');
    first.add(encodePackEntry('blob', version(0, 'lone')));
    await repo.indexPack([first.pack()]);
    expect(await objects.kv.get(reachKey(pool))).toBeDefined();
    expect(await record(chain[0]!)).toBe(50);
    expect(await record(chain[51]!)).toBe(9);
    // None for a delta, a root of chains shorter than 8, an object nothing is a delta of.
    expect(await record(chain[10]!)).toBeUndefined();
    expect(await record(short[0]!)).toBeUndefined();
    expect(await record(hashObject('blob', version(0, 'lone')))).toBeUndefined();

    // A thin pack: a delta on the stored 60th version (9 links from the 51st) raises the 51st's
    // record to 10; one on the first version leaves its 50 as it is.
    const second = new PackBuilder();
    const on60 = version(61, 'a');
    second.add(refDelta(chain[60]!, createDelta(version(60, 'a'), on60)));
    const on0 = enc.encode(`${new TextDecoder().decode(version(0, 'a'))}one more line\n`);
    second.add(refDelta(chain[0]!, createDelta(version(0, 'a'), on0)));
    await repo.indexPack([second.pack()]);
    expect(await record(chain[51]!)).toBe(10);
    expect(await record(chain[0]!)).toBe(50);

    // The sweep's deletion takes the record with the object.
    await objects.delete([chain[51]!]);
    expect(await objects.kv.get(reachKey(pool, oidToBytes(chain[51]!)))).toBeUndefined();
    await engine.close();
  });
});
