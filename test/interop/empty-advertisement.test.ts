/**
 * What a client is told about an empty repository, byte for byte against C git's own
 * `git http-backend`: clients tell "empty" from "broken" by it (go-git answers "remote
 * repository is empty" only when the v0 upload-pack advertisement has no ref line at all).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../http/helpers.js';
import { startLevelGit, startReference, type InteropServer } from './servers.js';

const tmp = tempDirs();
let lg: InteropServer;
let ref: InteropServer;

beforeAll(async () => {
  [lg, ref] = await Promise.all([startLevelGit(tmp.make('lg-adv-db-')), startReference(tmp.make('lg-adv-ref-'))]);
  await Promise.all([lg.createEmpty('empty'), ref.createEmpty('empty')]);
});

afterAll(async () => {
  await Promise.all([lg?.close(), ref?.close()]);
  tmp.cleanup();
});

async function advertisement(s: InteropServer, service: string, protocol?: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(`${s.url('empty')}/info/refs?service=${service}`, { headers: protocol === undefined ? {} : { 'git-protocol': protocol } });
  return { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()).toString('latin1') };
}

describe('an empty repository is advertised as C git advertises it', () => {
  it('v0 upload-pack: the service line and a flush, no capabilities^{} line', async () => {
    const [mine, reference] = await Promise.all([advertisement(lg, 'git-upload-pack'), advertisement(ref, 'git-upload-pack')]);
    expect(reference.body).toBe('001e# service=git-upload-pack\n00000000');
    expect(mine).toEqual(reference);
  });

  it("v0 receive-pack: one capabilities^{} line of the zero id (its capabilities are the server's own)", async () => {
    const shape = (body: string) => body.replace(/^(001f# service=git-receive-pack\n0000)[0-9a-f]{4}(0{40} capabilities\^\{\})\0[^\n]*\n0000$/, '$1$2');
    const [mine, reference] = await Promise.all([advertisement(lg, 'git-receive-pack'), advertisement(ref, 'git-receive-pack')]);
    expect(shape(reference.body)).toBe(`001f# service=git-receive-pack\n0000${'0'.repeat(40)} capabilities^{}`);
    expect({ ...mine, body: shape(mine.body) }).toEqual({ ...reference, body: shape(reference.body) });
  });
});
