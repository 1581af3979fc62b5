// A minimal in-memory file system with the promise API isomorphic-git asks for, so the clone's
// working tree lives in the page until it is closed. To keep clones across reloads, use
// lightning-fs instead (IndexedDB too): `npm i @isomorphic-git/lightning-fs`, then in app.js
// `import FS from '@isomorphic-git/lightning-fs'; const fs = new FS('clones');` (README.md).
function fsError(code, path) {
  const err = new Error(`${code}: ${path}`);
  err.code = code;
  return err;
}

function split(path) {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

export function createMemoryFs() {
  const root = { dir: new Map(), mtimeMs: Date.now() };
  let ino = 1;
  const lookup = (path) => {
    let node = root;
    for (const part of split(path)) {
      if (!node.dir) throw fsError('ENOTDIR', path);
      node = node.dir.get(part);
      if (!node) throw fsError('ENOENT', path);
    }
    return node;
  };
  const parentOf = (path) => {
    const parts = split(path);
    const name = parts.pop();
    const parent = lookup('/' + parts.join('/'));
    if (!parent.dir) throw fsError('ENOTDIR', path);
    return { parent, name };
  };
  const stat = async (path) => {
    const n = lookup(path);
    const isDir = Boolean(n.dir);
    return {
      type: isDir ? 'dir' : 'file',
      mode: isDir ? 0o40755 : (n.mode ?? 0o100644),
      size: isDir ? 0 : n.data.length,
      ino: n.ino ?? (n.ino = ino++),
      mtimeMs: n.mtimeMs,
      ctimeMs: n.mtimeMs,
      uid: 1,
      gid: 1,
      dev: 1,
      isFile: () => !isDir,
      isDirectory: () => isDir,
      isSymbolicLink: () => false,
    };
  };
  const promises = {
    async readFile(path, options) {
      const n = lookup(path);
      if (n.dir) throw fsError('EISDIR', path);
      const encoding = typeof options === 'string' ? options : options?.encoding;
      return encoding === 'utf8' ? new TextDecoder().decode(n.data) : n.data;
    },
    async writeFile(path, data, options) {
      const { parent, name } = parentOf(path);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
      const mode = typeof options === 'object' && options?.mode ? options.mode : undefined;
      parent.dir.set(name, { data: bytes, mode, mtimeMs: Date.now() });
    },
    async unlink(path) {
      const { parent, name } = parentOf(path);
      if (!parent.dir.has(name)) throw fsError('ENOENT', path);
      parent.dir.delete(name);
    },
    async readdir(path) {
      const n = lookup(path);
      if (!n.dir) throw fsError('ENOTDIR', path);
      return [...n.dir.keys()];
    },
    async mkdir(path) {
      const { parent, name } = parentOf(path);
      if (parent.dir.has(name)) throw fsError('EEXIST', path);
      parent.dir.set(name, { dir: new Map(), mtimeMs: Date.now() });
    },
    async rmdir(path) {
      const { parent, name } = parentOf(path);
      const n = parent.dir.get(name);
      if (!n) throw fsError('ENOENT', path);
      if (n.dir.size > 0) throw fsError('ENOTEMPTY', path);
      parent.dir.delete(name);
    },
    stat,
    lstat: stat,
    async readlink(path) {
      throw fsError('EINVAL', path);
    },
    async symlink(_target, path) {
      throw fsError('EPERM', path);
    },
    async chmod() {},
  };
  return { promises };
}
