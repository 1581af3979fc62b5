/**
 * `.gitattributes` matching as git's: wildmatch cases from git's documented rules, the
 * attribute stack (deeper file and later line win, `!attr`, macros), and export-subst
 * placeholders (expanded, literal, refused).
 */
import { describe, expect, it } from 'vitest';
import { attributesOf, parseAttributes } from '../../src/archive/attributes.js';
import { formatCommit, unsupportedPlaceholder } from '../../src/archive/format-subst.js';
import { wildmatch } from '../../src/archive/wildmatch.js';

describe('wildmatch', () => {
  it.each([
    ['foo/**/bar', 'foo/bar', true],
    ['foo/**/bar', 'foo/a/b/bar', true],
    ['**/bar', 'a/b/bar', true],
    ['foo/**', 'foo/a/b', true],
    ['foo/*', 'foo/a/b', false],
    ['*.txt', 'a/b.txt', false],
    ['a?c', 'a/c', false],
    ['[a-c]x', 'bx', true],
    ['[!a-c]x', 'bx', false],
    ['[[:digit:]]x', '7x', true],
    ['[]]x', ']x', true],
    ['\\*x', '*x', true],
    ['[abc', 'a', false],
    ['a**b', 'a/x/b', false],
    ['a**b', 'axb', true],
    ['a/**b', 'a/y/xb', false],
    ['**/*.c', 'x.c', true],
    ['[a-]x', '-x', true],
    ['a/[!b]/c', 'a/x/c', true],
    ['[[:foo:]]', 'q', false],
  ])('%s against %s (pathname) is %s', (p, t, m) => {
    expect(wildmatch(p, t, true)).toBe(m);
  });
});

describe('attributes', () => {
  const top = parseAttributes('[attr]nodist export-ignore\n*.log export-ignore\nkeep.log -export-ignore\nvendor nodist\n/b/ export-ignore\n!neg x\n', '', true);
  const sub = parseAttributes('*.log !export-ignore\n[attr]m export-subst\n', 'sub', false);
  const ignore = (path: string, dir = false, stack = [top]) => attributesOf(stack, path, dir, ['export-ignore']).get('export-ignore');
  it('later lines and deeper files win; macros expand; !attr unsets', () => {
    expect(ignore('x/a.log')).toBe(true);
    expect(ignore('keep.log')).toBe(false);
    expect(ignore('vendor', true)).toBe(true);
    expect(ignore('b', true)).toBe(true);
    expect(ignore('b', false)).toBeUndefined(); // a trailing / matches directories only
    expect(ignore('sub/a.log', false, [top, sub])).toBeUndefined();
    expect(sub.macros.size).toBe(0); // macros only in the top-level file
    expect(top.rules.some((r) => new TextDecoder().decode(r.pattern) === 'neg')).toBe(false); // negative patterns dropped
  });
});

describe('export-subst placeholders', () => {
  const who = { name: 'A U Thor', email: 'a@example.com', timestamp: 1_112_911_993, timezone: '-0700' };
  const ctx = {
    oid: 'a'.repeat(40),
    commit: { tree: 'b'.repeat(40), parents: ['c'.repeat(40)], author: who, committer: who, message: 'Sub ject: here!\n\nBody\n' },
    abbrev: (o: string) => o.slice(0, 7),
  };
  it('expands as git log --pretty=format: does', () => {
    expect(formatCommit('%h %t %p|%an <%ae> %al|%ad|%aI|%as|%s|%f|%b|%%|%x41|%q|%xZZ|%m', ctx)).toBe(
      'aaaaaaa bbbbbbb ccccccc|A U Thor <a@example.com> a|Thu Apr 7 15:13:13 2005 -0700|2005-04-07T15:13:13-07:00|2005-04-07|Sub ject: here!|Sub-ject-here|Body\n|%|A|%q|%xZZ|>',
    );
  });
  it('names the placeholders it refuses', () => {
    expect(unsupportedPlaceholder('%H %aN')).toBe('%aN');
    expect(unsupportedPlaceholder('%(describe)')).toBe('%(describe)');
    expect(unsupportedPlaceholder('%%aN %H')).toBeUndefined();
  });
});
