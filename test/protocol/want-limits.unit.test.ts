/**
 * Cost limits of a fetch: wants that are not ref tips each cost a reachability walk, so past
 * `maxNonTipWants` the request is refused by count, before any walk, with an `ERR` line git prints.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createGitFetchHandler } from '../../src/http/fetch-handler.js';
import { encodePktLine } from '../../src/protocol/pkt-line.js';
import { DEFAULT_UPLOAD_PACK_LIMITS } from '../../src/protocol/limits.js';

const AUTHOR = { name: 'A', email: 'a@example.com' };
let engine: Engine;
afterEach(async () => engine.close());

function fakeOid(i: number): string {
  return i.toString(16).padStart(40, '0');
}

function v2Fetch(wants: readonly string[]): Uint8Array {
  const parts = [
    encodePktLine('command=fetch'),
    new TextEncoder().encode('0001'),
    ...wants.map((w) => encodePktLine(`want ${w}`)),
    encodePktLine('done'),
    new TextEncoder().encode('0000'),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function fetchWith(wants: readonly string[], limits?: { maxNonTipWants: number }): Promise<{ text: string; walked: number }> {
  let walked = 0;
  const git = createGitFetchHandler({
    engine: {
      async gitBackend(name, opts) {
        const b = await engine.gitBackend(name, opts);
        const invalidWants = b.invalidWants.bind(b);
        b.invalidWants = (w) => ((walked += w.length), invalidWants(w));
        return b;
      },
    },
    ...(limits ? { limits: { uploadPack: limits } } : {}),
  });
  const res = await git(
    new Request('http://git.test/w.git/git-upload-pack', {
      method: 'POST',
      headers: { 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' },
      body: v2Fetch(wants) as unknown as BodyInit,
    }),
  );
  return { text: await res!.text(), walked };
}

describe('maxNonTipWants', () => {
  it('refuses more non-tip wants than the default allows with a clear ERR line, before any reachability walk', async () => {
    engine = await openEngine({ db: new MemoryLevel() as never });
    const repo = await engine.createRepo('w');
    const tip = await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const n = DEFAULT_UPLOAD_PACK_LIMITS.maxNonTipWants + 1;
    const { text, walked } = await fetchWith([tip.sha, ...Array.from({ length: n }, (_, i) => fakeOid(i + 1))]);
    expect(text).toContain(`ERR ${n} wants are not ref tips, more than the ${DEFAULT_UPLOAD_PACK_LIMITS.maxNonTipWants} allowed`);
    expect(walked).toBe(0);
  });

  it('counts only wants that are not tips: many tips pass, and the limit is an option', async () => {
    engine = await openEngine({ db: new MemoryLevel() as never });
    const repo = await engine.createRepo('w');
    const c: string[] = [];
    for (let i = 0; i < 5; i++)
      c.push((await repo.commit({ branch: 'main', message: `m${i}`, author: AUTHOR, changes: [{ path: `f${i}`, content: `${i}` }] })).sha);
    await repo.createBranch('b1', c[1]!);
    await repo.createBranch('b3', c[3]!);
    const shas = [c[1]!, c[3]!, c[4]!];
    const old = [c[0]!, c[2]!];
    expect((await fetchWith(shas, { maxNonTipWants: 1 })).text).not.toContain('ERR');
    expect((await fetchWith([...shas, old[0]!], { maxNonTipWants: 1 })).text).not.toContain('ERR');
    expect((await fetchWith([...shas, ...old.slice(0, 2)], { maxNonTipWants: 1 })).text).toContain('ERR 2 wants are not ref tips, more than the 1 allowed');
  });
});
