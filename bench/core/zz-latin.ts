import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/engine.js';
const dir = mkdtempSync(join(tmpdir(), 'latin-'));
const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' };
execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
writeFileSync(Buffer.concat([Buffer.from(join(dir, 'caf')), Buffer.from([0xe9])]), 'e-acute');
writeFileSync(Buffer.concat([Buffer.from(join(dir, 'caf')), Buffer.from([0xe8])]), 'e-grave');
writeFileSync(join(dir, 'plain.txt'), 'plain');
execFileSync('git', ['add', '-A'], { cwd: dir, env });
execFileSync('git', ['commit', '-qm', 'latin1 names'], { cwd: dir, env });
const pack = execFileSync('git', ['pack-objects', '--revs', '--stdout', '-q'], { cwd: dir, env, input: 'HEAD\n' });
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir }).toString().trim();
const engine = await openEngine({ db: new MemoryLevel() });
const repo = await engine.createRepo('x');
try {
  await repo.indexPack([new Uint8Array(pack)]);
  console.log('ingested');
  await repo.refs.transaction([{ ref: 'refs/heads/main', newSha: head }]);
  console.log(await repo.listTree('main'));
  const c = await repo.commit({ branch: 'main', message: 'touch', author: { name: 'a', email: 'a@b' }, changes: [{ path: 'plain.txt', content: 'changed' }] });
  const t = await repo.readObject(c.tree);
  console.log('new tree bytes include e9?', Buffer.from(t.body).includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0])));
} catch (e) { console.log('ERR', (e as any).code, (e as any).message); }
await engine.close();
