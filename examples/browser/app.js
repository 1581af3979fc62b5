// The page: files of the branch tip on the left, an editor in the middle, the history on the
// right, the diff of the selected commit below, and a clone by isomorphic-git. Edits collect in
// `pending` until "Commit"; every action re-reads from the repository, so what is shown is what
// IndexedDB holds (reload the page: it is all still there).
import { cloneNotes, commitChanges, commitDiff, createNotes, history, listFiles, openNotes } from './notes.js';

const $ = (id) => document.getElementById(id);
const AUTHOR = { name: 'Ada Example', email: 'ada@example.com' };
// ?db=name picks another IndexedDB database (the test uses one per run).
const dbName = new URLSearchParams(location.search).get('db') ?? 'level-git-notes';

let notes;
let files = []; // [{ path, content }] at the tip
let log = []; // newest first
let openPath;
let selectedSha;
const pending = new Map(); // path → edited content

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Runs an action with the page marked busy, and shows its error instead of failing silently. */
async function act(label, fn) {
  document.body.dataset.state = 'busy';
  $('state').textContent = `${label}…`;
  try {
    await fn();
    $('state').textContent = `${label}: done`;
  } catch (err) {
    $('state').textContent = `${label} failed: ${err.code ?? ''} ${err.message}`;
    console.error(err);
  } finally {
    document.body.dataset.state = 'ready';
  }
}

function contentOf(path) {
  return pending.get(path) ?? files.find((f) => f.path === path)?.content ?? '';
}

function renderFiles() {
  const paths = [...new Set([...files.map((f) => f.path), ...pending.keys()])].sort();
  $('files').replaceChildren(
    ...paths.map((path) => {
      const b = el('button', { textContent: path, className: [path === openPath ? 'open' : '', pending.has(path) ? 'changed' : ''].join(' ') });
      b.dataset.path = path;
      b.onclick = () => openFile(path);
      return el('li', {}, b);
    }),
  );
}

function openFile(path) {
  openPath = path;
  $('editing').textContent = `Editing ${path}`;
  $('editor').value = contentOf(path);
  renderFiles();
}

function shortDate(person) {
  return new Date(person.timestamp * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

function renderLog() {
  $('log').replaceChildren(
    ...log.map((c) => {
      const b = el(
        'button',
        { className: c.sha === selectedSha ? 'open' : '' },
        el('span', { className: 'sha', textContent: c.sha.slice(0, 7) }),
        ' ',
        c.message.trim().split('\n')[0],
        el('span', { className: 'meta', textContent: `${c.author.name} · ${shortDate(c.author)}` }),
      );
      b.dataset.sha = c.sha;
      b.onclick = () => act('Diff', () => showDiff(c));
      return el('li', {}, b);
    }),
  );
}

async function showDiff(commit) {
  selectedSha = commit.sha;
  renderLog();
  const { files: changed, patch } = await commitDiff(notes, commit);
  $('diff-title').textContent = `Diff of ${commit.sha.slice(0, 7)} — ${commit.message.trim().split('\n')[0]}`;
  $('diff-files').replaceChildren(
    ...changed.map((f) =>
      el(
        'li',
        {},
        `${f.status} ${f.path} `,
        el('span', { className: 'add', textContent: `+${f.additions}` }),
        ' ',
        el('span', { className: 'del', textContent: `−${f.deletions}` }),
      ),
    ),
  );
  const kind = (line) =>
    line.startsWith('@@')
      ? 'hunk'
      : /^(diff |index |--- |\+\+\+ |new file|deleted file)/.test(line)
        ? 'meta'
        : line[0] === '+'
          ? 'add'
          : line[0] === '-'
            ? 'del'
            : '';
  $('diff').replaceChildren(
    ...patch
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => el('span', { className: kind(line), textContent: line })),
  );
}

/** Re-reads files and history from the repository and redraws. */
async function refresh() {
  const ready = notes.repo !== undefined;
  $('empty').hidden = ready;
  for (const id of ['files-panel', 'editor-panel', 'history-panel', 'review', 'clone-panel']) $(id).hidden = !ready;
  if (!ready) return;
  [files, log] = await Promise.all([listFiles(notes), history(notes)]);
  if (openPath === undefined || (!files.some((f) => f.path === openPath) && !pending.has(openPath))) openPath = files[0]?.path;
  if (openPath !== undefined) openFile(openPath);
  renderLog();
  if (log.length > 0) await showDiff(log.find((c) => c.sha === selectedSha) ?? log[0]);
}

$('editor').oninput = () => {
  const saved = files.find((f) => f.path === openPath)?.content;
  if ($('editor').value === saved) pending.delete(openPath);
  else pending.set(openPath, $('editor').value);
  renderFiles();
};

$('new-file').onclick = () => {
  const path = $('new-path').value.trim();
  if (path === '') return;
  if (!pending.has(path) && !files.some((f) => f.path === path)) pending.set(path, '');
  $('new-path').value = '';
  openFile(path);
};

$('create').onclick = () =>
  act('Create', async () => {
    await createNotes(notes, AUTHOR);
    await refresh();
  });

$('commit').onclick = () =>
  act('Commit', async () => {
    if (pending.size === 0) throw new Error('nothing to commit: edit a file first');
    const message = $('message').value.trim() || `Update ${[...pending.keys()].join(', ')}`;
    // expectedHeadSha: if another tab committed meanwhile, this fails instead of overwriting.
    const result = await commitChanges(notes, pending, message, AUTHOR, log[0]?.sha);
    pending.clear();
    $('message').value = '';
    selectedSha = result.sha;
    await refresh();
  });

$('clone').onclick = () =>
  act('Clone', async () => {
    const clone = await cloneNotes(notes);
    const same = clone.head === log[0]?.sha;
    $('clone-result').replaceChildren(
      el(
        'p',
        {},
        'HEAD ',
        el('code', { textContent: clone.head.slice(0, 7) }),
        ' · ',
        `${clone.commits.length} commits · `,
        el('span', { className: same ? 'ok' : '', textContent: same ? 'same as main' : 'differs from main' }),
      ),
      el('ul', { id: 'clone-files' }, ...clone.files.map((f) => el('li', {}, el('code', { textContent: f.path }), ` ${f.bytes} bytes`))),
    );
    $('clone-result').dataset.head = clone.head;
  });

act('Open', async () => {
  notes = await openNotes(dbName);
  $('where').textContent = `repository “notes” in IndexedDB database “${notes.dbName}” · platform ${notes.platform}`;
  await refresh();
});
