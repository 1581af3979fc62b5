import { openEngine } from '../../src/index.js';
import { MemoryLevel } from 'memory-level';
const engine = await openEngine({ db: new MemoryLevel() });
const repo = await engine.createRepo('demo', { defaultBranch: 'main' });
const r = await repo.commit({ branch: 'main', message: 'm', author: { name: 'A', email: 'a@e' }, changes: [{ path: 'src/a.ts', content: 'hi', mode: '100755' }] });
console.log(r);
console.log(new TextDecoder().decode(await repo.readFile('main', 'src/a.ts')));
console.log(await repo.listTree('main', { recursive: true }));
console.log(await engine.listRepos());
try { await engine.createRepo('demo'); } catch (e) { console.log((e as any).code); }
for (const n of ['../x', 'a.git', 'team/project', 'a/b/c', '.x', 'x/']) { try { await engine.createRepo(n); console.log('ok', n); } catch (e) { console.log(n, (e as any).code); } }
await engine.close();
