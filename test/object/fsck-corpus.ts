/**
 * Crafted objects for the fsck tests: valid ones that must pass and hostile or broken ones
 * for every message id git 2.39 reports about object content. Built from raw bytes (trees in
 * the order given, not sorted) so that unsorted, duplicated and malformed forms can be made.
 * Referenced objects that do not exist are always referenced with the same type, so that
 * git's object table sees no type conflicts between corpus entries.
 */
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';

/** One crafted object. */
export interface CorpusObject {
  label: string;
  type: ObjectType;
  body: Uint8Array;
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const hexBytes = (oid: string): Uint8Array => new Uint8Array(Buffer.from(oid, 'hex'));

// Absent objects, one per type they are referenced as.
export const ABSENT_BLOB = '1'.repeat(40) as Oid;
export const ABSENT_TREE = '2'.repeat(40) as Oid;
export const ABSENT_COMMIT = '3'.repeat(40) as Oid;
export const ABSENT_TAG = '4'.repeat(40) as Oid;
export const NULL_OID = '0'.repeat(40) as Oid;

/** A raw tree entry: mode text, name (latin1 text or bytes), oid (default by mode). */
export type RawEntry = [mode: string, name: string | Uint8Array, oid?: string];

/** A tree body with entries in the order given. */
export function rawTree(entries: RawEntry[]): Uint8Array {
  return concat(
    entries.map(([mode, name, oid]) => {
      const target = oid ?? (mode.replace(/^0+/, '') === '40000' ? ABSENT_TREE : mode === '160000' ? ABSENT_COMMIT : ABSENT_BLOB);
      return concat([bytes(`${mode} `), typeof name === 'string' ? utf8(name) : name, new Uint8Array([0]), hexBytes(target)]);
    }),
  );
}

const ID = 'A U Thor <author@example.com> 1700000000 +0100';

/** A commit body from its header lines (after tree/parents) and a message. */
function commit(head: string, message = 'msg\n'): Uint8Array {
  return bytes(`${head}\n${message}`);
}

function commitWith(author: string, committer = ID): Uint8Array {
  return commit(`tree ${ABSENT_TREE}\nauthor ${author}\ncommitter ${committer}\n`);
}

function tag(head: string, message = 'msg\n'): Uint8Array {
  return bytes(`${head}\n${message}`);
}

const TAG_HEAD = `object ${ABSENT_COMMIT}\ntype commit\ntag v1\n`;

/** The corpus: special blobs first (so trees can name them), then trees, commits, tags. */
export function buildCorpus(): CorpusObject[] {
  const out: CorpusObject[] = [];
  const add = (label: string, type: ObjectType, body: Uint8Array): Oid => {
    out.push({ label, type, body });
    return hashObject(type, body);
  };

  // .gitmodules blobs, each named by its own tree below.
  const modules: [string, string][] = [
    ['valid', '[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n'],
    ['valid relative url, update, comments, CRLF', '# c\r\n[submodule "a/b"] ; c\r\n\tpath = "a b"\r\n\turl = ../sibling.git\r\n\tupdate = rebase\r\n'],
    ['old-style section', '[submodule.lib]\n\turl = git://example.com/x\n'],
    ['BOM (a syntax error in a blob)', '\xef\xbb\xbf[submodule "x"]\n\turl = -x\n'],
    ['0xff ends the text', '[submodule "x"]\n\tpath = a\xff\n\turl = -x\n'],
    ['high bytes in names and values', '[submodule "\xe9"]\n\tpath = \xe9\n'],
    ['name escaping into .git/modules', '[submodule "../../../../.git/modules/x"]\n\tpath = x\n\turl = ./x\n'],
    ['name ".."', '[submodule ".."]\n\tpath = x\n'],
    ['name with a backslash ".." component', '[submodule "a\\\\..\\\\b"]\n\tpath = x\n'],
    ['name "..a" is fine', '[submodule "..a"]\n\tpath = x\n'],
    ['url option', '[submodule "x"]\n\turl = --upload-pack=touch pwned\n'],
    ['path option', '[submodule "x"]\n\tpath = -x\n'],
    ['update command', '[submodule "x"]\n\tupdate = !rm -rf /\n'],
    ['url with encoded newline (relative)', '[submodule "x"]\n\turl = ./%0ahost=evil\n'],
    ['url with encoded newline (git://)', '[submodule "x"]\n\turl = git://host/%0a\n'],
    ['url climbing into a host', '[submodule "x"]\n\turl = ../../:evil.com/x\n'],
    ['url climbing into a slash', '[submodule "x"]\n\turl = ./../../..//evil.com/x\n'],
    ['https url without host', '[submodule "x"]\n\turl = https:///evil.com/x\n'],
    ['curl url without scheme', '[submodule "x"]\n\turl = http::evil.com/x\n'],
    ['curl url fine', '[submodule "x"]\n\turl = https::https://example.com/x\n'],
    ['https url newline in user', '[submodule "x"]\n\turl = https://u%0ax@example.com/x\n'],
    ['https url newline in path', '[submodule "x"]\n\turl = https://example.com/x%0a\n'],
    ['escaped newline in value', '[submodule "x"]\n\turl = ./a\\nb\n'],
    ['case-insensitive section and key', '[SubModule "X"]\n\tURL = -x\n'],
    ['no subsection', '[submodule]\n\turl = -x\n'],
    ['key without value', '[submodule "x"]\n\turl\n'],
    ['unterminated section', '[submodule "x"\n\tpath = x\n'],
    ['unterminated quote', '[submodule "x"]\n\tpath = "x\n'],
    ['bad escape', '[submodule "x"]\n\tpath = a\\qb\n'],
    ['partial BOM', '\xef\xbb[core]\n'],
    ['bad url, then a parse error', '[submodule "x"]\n\turl = -x\n=oops\n'],
    ['two bad keys under one bad name', '[submodule ".."]\n\tpath = -p\n\turl = -u\n'],
  ];
  const moduleOids = modules.map(([label, text]) => add(`.gitmodules: ${label}`, 'blob', bytes(text)));
  const attributes: [string, Uint8Array][] = [
    ['valid', bytes('*.bin binary\n')],
    ['line of 2047 bytes', bytes('a'.repeat(2047) + '\n')],
    ['line of 2048 bytes', bytes('a'.repeat(2048) + '\n')],
    ['long last line without LF', bytes('x\n' + 'b'.repeat(3000))],
    ['long line after a NUL', concat([bytes('x\n'), new Uint8Array([0]), bytes('c'.repeat(3000))])],
  ];
  const attributeOids = attributes.map(([label, body]) => add(`.gitattributes: ${label}`, 'blob', body));

  const tree = (label: string, entries: RawEntry[]) => add(`tree: ${label}`, 'tree', rawTree(entries));
  modules.forEach(([label], i) => tree(`.gitmodules ${label}`, [['100644', '.gitmodules', moduleOids[i]]]));
  attributes.forEach(([label], i) => tree(`.gitattributes ${label}`, [['100644', '.gitattributes', attributeOids[i]]]));
  // A blob named .gitmodules in two spellings, one tree each: checked once.
  tree('.gitmodules spelled gitmod~1', [['100644', 'gitmod~1', moduleOids[3]]]);
  tree('.gitmodules spelled .GITMODULES.', [['100644', '.GITMODULES.', moduleOids[3]]]);
  tree('.gitmodules missing', [['100644', '.gitmodules', '5'.repeat(40)]]);
  // Special names pointing at trees: git reads the tree and says it is not a blob.
  const notBlob1 = tree('target named .gitmodules', [['100644', 'm']]);
  const notBlob2 = tree('target named .gitattributes', [['100644', 'n']]);
  tree('.gitmodules is a tree', [['100644', '.gitmodules', notBlob1]]);
  tree('.gitattributes is a tree', [['100644', '.gitattributes', notBlob2]]);

  // Valid trees.
  tree('all modes', [
    ['100644', 'a', ABSENT_BLOB],
    ['100755', 'b'],
    ['120000', 'c'],
    ['40000', 'd'],
    ['160000', 'e'],
  ]);
  add('tree: empty', 'tree', new Uint8Array(0));
  tree('file before same-prefix dir', [
    ['100644', 'a.c'],
    ['40000', 'a'],
  ]);
  tree('dir before longer file', [
    ['40000', 'a'],
    ['100644', 'a0'],
  ]);
  tree('non-ASCII and dotted names', [
    ['100644', '.github'],
    ['100644', '.gitx'],
    ['100644', 'git~2'],
    ['100644', 'héllo'],
    ['100644', '日本'],
  ]);
  tree('latin-1 name', [['100644', bytes('caf\xe9')]]);
  tree('.gitignore and .mailmap as files', [
    ['100644', '.gitignore'],
    ['100644', '.mailmap'],
  ]);

  // Names a checkout reads as ".", "..", ".git" (one tree each: the finding is per tree).
  const dangerous: (string | Uint8Array)[] = [
    '.',
    '..',
    '.git',
    '.GIT',
    '.gIt',
    'git~1',
    'GIT~1',
    '.git.',
    '.git ',
    '.git. . .',
    '.git::$INDEX_ALLOCATION',
    '.git:$DATA',
    '.g\u200cit',
    '\u200c.git',
    '.git\u200c',
    '.gi\u200dt',
    '\ufeff.git',
    '.git\u200f',
    '.GIT\u206a',
    '\u202e.git',
    'a\\.git',
    'a\\git~1',
    'a\\.GIT.',
    '.git\\x',
    '.git/x',
    '/abs',
    'a/b',
    'foo/.git',
    bytes('.git\xff'),
    bytes('.g\xe2\x80it'),
    '.git~1',
    'git~10',
    '.gitfoo',
    '.git-x',
  ];
  for (const name of dangerous) tree(`name ${JSON.stringify(typeof name === 'string' ? name : Buffer.from(name).toString('latin1'))}`, [['100644', name]]);
  tree('.git as a directory', [['40000', '.git']]);

  // Special names as symbolic links.
  const links = [
    '.gitmodules',
    '.GITMODULES',
    'gitmod~1',
    'gi7eba~1',
    'GI7EBA~9',
    '.gitmodules ',
    '.gitmodules:x',
    '\u200c.gitmodules',
    'a\\.gitmodules',
    '~1234567',
    '.gitattributes',
    'gitatt~1',
    'gi7d29~1',
    '.gitignore',
    'gitign~1',
    'gi250a~1',
    '.mailmap',
    'mailma~1',
    'maba30~2',
    '.mailmapx',
  ];
  for (const name of links) tree(`symlink ${JSON.stringify(name)}`, [['120000', name]]);

  // Modes.
  for (const mode of ['040000', '0100644', '100664', '100600', '100666', '644', '160644', '1100644', '10644', '120755', '0']) {
    tree(`mode ${mode}`, [[mode, 'f']]);
  }

  // Order and duplicates.
  tree('unsorted', [
    ['100644', 'b'],
    ['100644', 'a'],
  ]);
  tree('dir sorts after file with suffix', [
    ['40000', 'a'],
    ['100644', 'a.c'],
  ]);
  tree('duplicate files', [
    ['100644', 'a'],
    ['100644', 'a'],
  ]);
  tree('duplicate file and dir', [
    ['100644', 'a'],
    ['40000', 'a'],
  ]);
  tree('duplicate dir and file', [
    ['40000', 'a'],
    ['100644', 'a'],
  ]);
  tree('duplicate across a prefix', [
    ['100644', 'a'],
    ['100644', 'a.b'],
    ['40000', 'a'],
  ]);
  tree('duplicate across two prefixes', [
    ['100644', 'a'],
    ['100644', 'a.b'],
    ['100644', 'a.b.c'],
    ['40000', 'a.b'],
    ['40000', 'a'],
  ]);
  tree('unsorted and duplicate', [
    ['100644', 'b'],
    ['100644', 'a'],
    ['100644', 'a'],
  ]);
  tree('null id', [['100644', 'a', NULL_OID]]);
  tree('many findings at once', [
    ['0100644', '.git', NULL_OID],
    ['100644', '..'],
    ['644', 'a/b'],
    ['100644', '.'],
  ]);

  // Trees git cannot read.
  add('tree: truncated id', 'tree', rawTree([['100644', 'a']]).subarray(0, 20));
  add('tree: empty name', 'tree', concat([bytes('100644 \0'), hexBytes(ABSENT_BLOB)]));
  add('tree: mode digit 8', 'tree', concat([bytes('100648 a\0'), hexBytes(ABSENT_BLOB)]));
  add('tree: mode starts with a space', 'tree', concat([bytes(' 100644 a\0'), hexBytes(ABSENT_BLOB)]));
  add('tree: trailing garbage', 'tree', concat([rawTree([['100644', 'a']]), bytes('xyz')]));
  add('tree: second entry bad', 'tree', concat([rawTree([['100644', '.git']]), bytes('100644 b'), new Uint8Array(25)]));
  add('tree: no NUL', 'tree', bytes('100644 abcdefghijklmnopqrstuvwxyz0123456789'));

  // Commits.
  const c = (label: string, body: Uint8Array) => add(`commit: ${label}`, 'commit', body);
  c('valid', commitWith(ID));
  c(
    'valid with parents and extra headers',
    commit(
      `tree ${ABSENT_TREE}\nparent ${ABSENT_COMMIT}\nparent ${ABSENT_COMMIT}\nauthor ${ID}\ncommitter ${ID}\nencoding ISO-8859-1\ngpgsig -----BEGIN-----\n abc\n -----END-----\n`,
    ),
  );
  c('valid without message', bytes(`tree ${ABSENT_TREE}\nauthor ${ID}\ncommitter ${ID}\n`));
  c('valid, upper-case tree id', commit(`tree ${'AB'.repeat(20)}\nauthor ${ID}\ncommitter ${ID}\n`));
  c('valid, negative zone and non-ASCII name', commitWith('Jörg Ü <j@example.com> 1 -1230'));
  c('valid, date 0', commitWith('A <a> 0 +0000'));
  c('valid, empty name and email', commitWith(' <> 1 +0000'));
  c('valid, two spaces before the date', commitWith('A <a>  1 +0000'));
  c('date 2^63-1', commitWith('A <a> 9223372036854775807 +0000'));
  c('date 2^63', commitWith('A <a> 9223372036854775808 +0000'));
  c('date 2^64', commitWith('A <a> 18446744073709551616 +0000'));
  c('date far too large', commitWith('A <a> 99999999999999999999999999 +0000'));
  c('date -1', commitWith('A <a> -1 +0000'));
  c('date -18446744073709551615', commitWith('A <a> -18446744073709551615 +0000'));
  c('zero-padded date', commitWith('A <a> 0123 +0000'));
  c('date not a number', commitWith('A <a> x +0000'));
  c('no space after date', commitWith('A <a> 1+0000'));
  c('no time zone', commitWith('A <a> 1'));
  c('time zone +99999', commitWith('A <a> 1 +99999'));
  c('time zone +999', commitWith('A <a> 1 +999'));
  c('time zone without sign', commitWith('A <a> 1 0000'));
  c('time zone then junk', commitWith('A <a> 1 +0000 x'));
  c('bad committer time zone', commitWith(ID, 'C <c> 1 +00x0'));
  c('no name before email', commitWith('<a> 1 +0000'));
  c('bad name', commitWith('A a> 1 +0000'));
  c('no email', commitWith('A 1 +0000'));
  c('no space before email', commitWith('A<a> 1 +0000'));
  c('bad email', commitWith('A <a 1 +0000'));
  c('email with <', commitWith('A <a<b> 1 +0000'));
  c('no space before date', commitWith('A <a>1 +0000'));
  c('author and committer both bad', commitWith('A <a> 1 +99999', 'C <c> 01 +0000'));
  c('missing author', commit(`tree ${ABSENT_TREE}\ncommitter ${ID}\n`));
  c('two authors', commit(`tree ${ABSENT_TREE}\nauthor ${ID}\nauthor ${ID}\ncommitter ${ID}\n`));
  c('missing committer', commit(`tree ${ABSENT_TREE}\nauthor ${ID}\n`));
  c('committer before author', commit(`tree ${ABSENT_TREE}\ncommitter ${ID}\nauthor ${ID}\n`));
  c('NUL in header', bytes(`tree ${ABSENT_TREE}\nauthor A <a> 1 +0000\ncommitter ${ID}\nx \0\n\nmsg\n`));
  c('NUL in message', bytes(`tree ${ABSENT_TREE}\nauthor ${ID}\ncommitter ${ID}\n\nm\0sg\n`));
  c('unterminated header', bytes(`tree ${ABSENT_TREE}\nauthor ${ID}\ncommitter ${ID}`));
  c('empty', new Uint8Array(0));
  c('no tree line', commit(`author ${ID}\ncommitter ${ID}\n`));
  c('bad tree id', commit(`tree xyz\nauthor ${ID}\ncommitter ${ID}\n`));
  c('bad parent id', commit(`tree ${ABSENT_TREE}\nparent 123\nauthor ${ID}\ncommitter ${ID}\n`));

  // Tags.
  const t = (label: string, body: Uint8Array) => add(`tag: ${label}`, 'tag', body);
  t('valid', tag(`${TAG_HEAD}tagger ${ID}\n`));
  t('valid, of a blob', tag(`object ${ABSENT_BLOB}\ntype blob\ntag b\ntagger ${ID}\n`));
  t('valid, of a tree and nested name', tag(`object ${ABSENT_TREE}\ntype tree\ntag release/1.0\ntagger ${ID}\n`));
  t('valid, of a tag', tag(`object ${ABSENT_TAG}\ntype tag\ntag v1-signed\ntagger ${ID}\n`));
  t('no tagger', tag(TAG_HEAD));
  t('no tagger, no message', bytes(TAG_HEAD));
  t('extra header after tagger', tag(`${TAG_HEAD}tagger ${ID}\nfoo bar\n`));
  t('no tagger and an extra header', tag(`${TAG_HEAD}foo bar\n`));
  t('bad tagger zone', tag(`${TAG_HEAD}tagger A <a> 1 +0\n`));
  t('bad tagger and extra header', tag(`${TAG_HEAD}tagger A <a> 1 +0\nfoo bar\n`));
  for (const name of [
    'a..b',
    'a b',
    'x.lock',
    'a@{b',
    '.a',
    'a.',
    'a/',
    '/a',
    'a//b',
    'a:b',
    'a*',
    'a~1',
    'a^',
    'a?',
    'a[',
    'a\\b',
    'a\x7f',
    '@',
    '-a',
    'é',
    'a/.b',
    'a.lock/b',
  ]) {
    t(`tag name ${JSON.stringify(name)}`, tag(`object ${ABSENT_COMMIT}\ntype commit\ntag ${name}\ntagger ${ID}\n`));
  }
  t('empty tag name', tag(`object ${ABSENT_COMMIT}\ntype commit\ntag \ntagger ${ID}\n`));
  t('NUL in header', bytes(`${TAG_HEAD}tagger A\0 <a> 1 +0000\n\nmsg\n`));
  t('unterminated header', bytes(`${TAG_HEAD}tagger ${ID}`));
  t('bad type', tag(`object ${ABSENT_COMMIT}\ntype commitx\ntag v1\ntagger ${ID}\n`));
  t('no object line', tag(`type commit\ntag v1\ntagger ${ID}\n`));
  t('bad object id', tag(`object 123\ntype commit\ntag v1\ntagger ${ID}\n`));
  t('no type line', tag(`object ${ABSENT_COMMIT}\ntag v1\ntagger ${ID}\n`));
  t('no tag line', tag(`object ${ABSENT_COMMIT}\ntype commit\ntagger ${ID}\n`));
  return out;
}
