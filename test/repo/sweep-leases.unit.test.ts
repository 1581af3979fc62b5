/**
 * The sweep's leases across processes (repo/sweep-leases.ts), with two coordinators over one
 * memory database standing for two processes: a write in flight in one keeps the other's gate
 * open, a closed gate makes the other's writes wait, pins are seen by the other, one leader at a
 * time, and a process that is gone (its alive record withdrawn or expired) holds nothing back.
 * Also: two engines over one database with `coordination: 'database'` see a repository deleted
 * and re-created through the other.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { Kv } from '../../src/storage/kv.js';
import { LeaseCoordinator } from '../../src/repo/sweep-leases.js';
import { openEngine } from '../../src/index.js';
import { TAG } from '../../src/storage/keys.js';
import { oidFromBytes, type Oid } from '../../src/object/oid.js';

const OID_A = 'a'.repeat(40) as Oid;
const OID_B = 'b'.repeat(40) as Oid;
const author = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000 };

function pair(leaseMs = 30_000) {
  const kv = new Kv(new MemoryLevel() as never);
  return { kv, one: new LeaseCoordinator(kv, { leaseMs }), two: new LeaseCoordinator(kv, { leaseMs }) };
}

describe('sweep leases between processes', () => {
  it("a write in flight in one process keeps the other's gate open until it ends", async () => {
    const { one, two } = pair();
    const release = await one.forRepo(1).beginWrite();
    expect(await two.forRepo(1).tryClose()).toBe(false);
    expect(await two.forRepo(2).tryClose()).toBe(true); // another repository is not held back
    await two.forRepo(2).open();
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(await two.forRepo(1).tryClose()).toBe(true);
    await two.forRepo(1).open();
    await Promise.all([one.close(), two.close()]);
  });

  it("a closed gate makes the other process's writes wait until it opens", async () => {
    const { one, two } = pair();
    expect(await one.forRepo(1).tryClose()).toBe(true);
    let began = false;
    const write = two
      .forRepo(1)
      .beginWrite()
      .then((release) => {
        began = true;
        return release;
      });
    await new Promise((r) => setTimeout(r, 120));
    expect(began).toBe(false);
    await one.forRepo(1).open();
    (await write)();
    expect(began).toBe(true);
    await Promise.all([one.close(), two.close()]);
  });

  it('pins of one process are seen by the other, until released', async () => {
    const { one, two } = pair();
    const release = await one.forRepo(1).pin([OID_A, OID_B]);
    expect([...(await two.forRepo(1).pinned())].sort()).toEqual([OID_A, OID_B]);
    expect((await two.forRepo(2).pinned()).size).toBe(0);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect((await two.forRepo(1).pinned()).size).toBe(0);
    await Promise.all([one.close(), two.close()]);
  });

  it('pins given as one table of raw ids (a clone plan) are seen as their hex ids', async () => {
    const { one, two } = pair();
    const raw = new Uint8Array(40).fill(0xaa, 0, 20).fill(0xbb, 20);
    expect([oidFromBytes(raw, 0), oidFromBytes(raw, 20)]).toEqual([OID_A, OID_B]);
    const release = await one.forRepo(1).pin(raw);
    expect([...(await two.forRepo(1).pinned())].sort()).toEqual([OID_A, OID_B]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect((await two.forRepo(1).pinned()).size).toBe(0);
    await Promise.all([one.close(), two.close()]);
  });

  it('one leader at a time', async () => {
    const { one, two } = pair();
    let inner: unknown;
    const outer = await one.lead('sweep', async () => {
      inner = await two.lead('sweep', async () => 'two');
      return 'one';
    });
    expect(outer).toEqual({ ran: true, value: 'one' });
    expect(inner).toEqual({ ran: false });
    expect(await two.lead('sweep', async () => 'two')).toEqual({ ran: true, value: 'two' });
    await Promise.all([one.close(), two.close()]);
  });

  it('two candidates at the same moment: the tie is tried again, and exactly one leads', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const { one, two } = pair();
      // Both write their record before either reads: on the first try each sees the other.
      const lead = (c: LeaseCoordinator, name: string) =>
        c.lead('sweep', async () => {
          await new Promise((r) => setTimeout(r, 400)); // longer than the retries' pauses
          return name;
        });
      const results = await Promise.all([lead(one, 'one'), lead(two, 'two')]);
      expect(results.filter((r) => r.ran)).toHaveLength(1);
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('a process that is gone holds nothing back: its writes, pins and leadership lapse', async () => {
    const { kv, one, two } = pair(150);
    await one.forRepo(1).beginWrite();
    await one.forRepo(1).pin([OID_A]);
    expect(await two.forRepo(1).tryClose()).toBe(false);
    // Withdrawn (a clean exit) ...
    await one.close();
    expect(await two.forRepo(1).tryClose()).toBe(true);
    expect((await two.forRepo(1).pinned()).size).toBe(0);
    await two.forRepo(1).open();
    // ... or expired (a crash): a holder whose alive record is past its expiry.
    const three = new LeaseCoordinator(kv, { leaseMs: 150 });
    await three.forRepo(1).beginWrite();
    const alive = new Uint8Array([TAG.global, ...new TextEncoder().encode(`alive/${Buffer.from(three.holder).toString('hex')}`)]);
    const past = new Uint8Array(8);
    new DataView(past.buffer).setFloat64(0, Date.now() - 1);
    await three.close(); // stops renewing; then the record is put back, expired
    await kv.batch([{ type: 'put', key: alive, value: past }]);
    expect(await two.forRepo(1).tryClose()).toBe(true);
    await two.forRepo(1).open();
    await two.close();
  });

  it("engines with coordination 'database' see a repository deleted and re-created through another", async () => {
    const db = new MemoryLevel();
    await db.open();
    const a = await openEngine({ db: db as never, coordination: 'database', packCache: { warm: false } });
    const b = await openEngine({ db: db as never, coordination: 'database', packCache: { warm: false } });
    await (await a.createRepo('r')).commit({ branch: 'main', message: 'old', author, changes: [{ path: 'f', content: 'old' }] });
    expect(new TextDecoder().decode(await (await b.getRepo('r')).readFile('main', 'f'))).toBe('old');
    await a.deleteRepo('r');
    expect(await b.findRepo('r')).toBeUndefined();
    await (await a.createRepo('r')).commit({ branch: 'main', message: 'new', author, changes: [{ path: 'f', content: 'new' }] });
    expect(new TextDecoder().decode(await (await b.getRepo('r')).readFile('main', 'f'))).toBe('new');
    await a.close();
    await b.close();
    await db.close();
  });
});
