/** A batch of read objects across threads (pack/worker-protocol.ts): what goes in comes out. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type ReadObject, fromWireBatch, toWireBatch } from '../../src/pack/worker-protocol.js';
import type { Oid } from '../../src/object/oid.js';

const hex = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex') as Oid);
const bytes = fc.uint8Array({ maxLength: 64 });

const object = fc.oneof(
  fc.record({ oid: hex, type: fc.constantFrom('commit', 'tree', 'blob', 'tag' as const), body: bytes }).map((o): ReadObject => ({ ...o, entry: o.body })),
  fc
    .record({ oid: hex, base: hex, body: bytes, data: bytes })
    .map((o): ReadObject => ({ oid: o.oid, type: 'tree', body: o.body, delta: { base: o.base, data: o.data } })),
  bytes.map((piece): ReadObject => ({ oid: '' as Oid, type: 'blob', body: new Uint8Array(0), piece })),
);

describe('worker protocol batches', () => {
  it('give back every id, delta base, body and piece', () => {
    fc.assert(
      fc.property(fc.array(object, { maxLength: 40 }), (objects) => {
        const back = fromWireBatch(toWireBatch(objects, new Set(), () => false));
        expect(back.map((o) => o.oid)).toEqual(objects.map((o) => o.oid));
        expect(back.map((o) => o.delta?.base)).toEqual(objects.map((o) => o.delta?.base));
        expect(back.map((o) => [...o.body])).toEqual(objects.map((o) => [...o.body]));
        expect(back.map((o) => o.piece && [...o.piece])).toEqual(objects.map((o) => o.piece && [...o.piece]));
        expect(back.map((o) => o.delta?.data && [...o.delta.data])).toEqual(objects.map((o) => o.delta?.data && [...o.delta.data]));
      }),
      { numRuns: 100 },
    );
  });
});
