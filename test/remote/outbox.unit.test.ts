/**
 * The webhook outbox is written in the batch that moves the refs: a ref move that lands has its
 * events, one that is refused has none, and an event is not lost if no process delivers it
 * before a restart (it stays in the database). No network: the delivery loop is off.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableRemotes, openEngine } from '../../src/index.js';
import { TAG } from '../../src/storage/keys.js';

enableRemotes();

async function outbox(db: MemoryLevel<Uint8Array, Uint8Array>): Promise<{ event: string; body: string }[]> {
  const out: { event: string; body: string }[] = [];
  for await (const [, v] of db.iterator({
    gte: new Uint8Array([TAG.outbox]),
    lt: new Uint8Array([TAG.outbox + 1]),
    keyEncoding: 'view',
    valueEncoding: 'view',
  }))
    out.push(JSON.parse(new TextDecoder().decode(v)));
  return out;
}

const author = { name: 'A', email: 'a@example.com' };

describe('webhook outbox', () => {
  it('holds the events of ref moves that landed, and none of refused ones', async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
    let refuse = false;
    const engine = await openEngine({ db: db as never, webhooks: { deliver: false }, beforeRefUpdate: () => (refuse ? 'no' : undefined) });
    const repo = await engine.createRepo('r');
    await engine.webhooks!.create('r', { url: 'https://hooks.example.com/x', events: ['ref.updated', 'branch.promoted'], secret: 's' });
    await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a', content: 'a' }] });
    expect((await outbox(db)).map((e) => e.event)).toEqual(['ref.updated']);

    refuse = true;
    await expect(repo.commit({ branch: 'main', message: 'two', author, changes: [{ path: 'a', content: 'b' }] })).rejects.toMatchObject({
      code: 'ERR_REF_REJECTED',
    });
    expect(await outbox(db)).toHaveLength(1);

    refuse = false;
    await repo.commit({ branch: 'x', message: 'e', author, changes: [{ path: 'e', content: 'e' }], space: 'ephemeral', ttlSeconds: 60 });
    await repo.promote({ baseBranch: 'x' });
    const events = (await outbox(db)).map((e) => e.event).sort();
    expect(events).toEqual(['branch.promoted', 'ref.updated', 'ref.updated', 'ref.updated']);
    await engine.close();

    // Another engine over the same database finds them (nothing delivered them).
    const again = await openEngine({ db: db as never, webhooks: { deliver: false } });
    expect(await outbox(db)).toHaveLength(4);
    expect(JSON.parse((await outbox(db))[0]!.body)).toMatchObject({ repository: 'r', updates: [{ ref: expect.stringMatching(/^refs\/heads\//) }] });
    await again.close();
  });

  it('is empty when the repository has no webhooks, and secrets are never listed', async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
    const engine = await openEngine({ db: db as never, webhooks: { deliver: false } });
    const repo = await engine.createRepo('r');
    await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a', content: 'a' }] });
    expect(await outbox(db)).toEqual([]);
    const hook = await engine.webhooks!.create('r', { url: 'https://hooks.example.com/x', events: ['push'], secret: 'top-secret' });
    expect(JSON.stringify(await engine.webhooks!.list('r'))).not.toContain('top-secret');
    expect(JSON.stringify(hook)).not.toContain('top-secret');
    await expect(engine.webhooks!.create('r', { url: 'https://u:p@hooks.example.com/x', events: ['push'], secret: 's' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await engine.close();
  });
});
