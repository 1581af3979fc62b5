/**
 * Real histories hold commits git's own fsck warns about but C git accepts on push: an author
 * without a space before `<`, a zone written `+05:30`, no date at all. They are ingested and
 * read back byte-identical once those findings are downgraded (`fsck.severities`, as git's
 * `receive.fsck.<msg-id>`): the fsck checks refuse them by default, as `receive.fsckObjects` does.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { utf8 } from '../../src/platform/bytes.js';
import { git } from '../helpers/git.js';
import { withTempDir } from '../helpers/tmp.js';

describe('odd but real commit identities', () => {
  it('are ingested, logged and read back byte-identical', async () => {
    await withTempDir('lg-odd-', async (dir) => {
      git(dir, ['init', '-q', '--bare']);
      const blob = git(dir, ['hash-object', '-w', '--stdin'], 'hello\n').toString().trim();
      const tree = git(dir, ['mktree'], `100644 blob ${blob}\thello.txt\n`).toString().trim();
      const idents = ['Old<old@example.com> 1100000000 +0000', 'Zone <zone@example.com> 1200000000 +05:30', 'NoDate <nodate@example.com>'];
      let parent = '';
      const commits: string[] = [];
      for (const id of idents) {
        const body = `tree ${tree}\n${parent ? `parent ${parent}\n` : ''}author ${id}\ncommitter ${id}\n\nodd ${commits.length}\n`;
        parent = git(dir, ['hash-object', '-t', 'commit', '--literally', '-w', '--stdin'], body).toString().trim();
        commits.push(parent);
      }
      const pack = git(dir, ['pack-objects', '--stdout', '-q'], `${commits.join('\n')}\n${tree}\n${blob}\n`);

      const engine = await openEngine({ db: new MemoryLevel() });
      const repo = await engine.createRepo('odd');
      // Checked as receive.fsckObjects checks: such histories need their findings downgraded
      // (git's receive.fsck.<msg-id>), here per call.
      const severities = { missingSpaceBeforeEmail: 'warn', badTimezone: 'warn', missingSpaceBeforeDate: 'warn', badDate: 'warn' } as const;
      await repo.indexPack([new Uint8Array(pack)], { fsck: { severities } });
      await repo.refs.transaction([{ ref: 'refs/heads/main', newOid: parent }]);
      const log = await repo.log('main');
      expect(log.map((c) => c.author.email)).toEqual(['nodate@example.com', 'zone@example.com', 'old@example.com']);
      for (const c of commits) {
        const ours = await repo.readObject(c);
        expect(Buffer.from(ours.body).equals(git(dir, ['cat-file', 'commit', c]))).toBe(true);
      }
      expect(await repo.readFile('main', 'hello.txt')).toEqual(utf8('hello\n'));
      await engine.close();
    });
  });
});
