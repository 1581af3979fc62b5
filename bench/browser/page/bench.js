// The browser benchmark's page: the same engine operations on IndexedDB (browser-level) and on
// memory-level, alternated in one page, so their ratio is measured under the same conditions.
import { openEngine, getPlatform } from 'level-git';
import { BrowserLevel } from 'browser-level';
import { MemoryLevel } from 'memory-level';

const AUTHOR = { name: 'Bench', email: 'bench@example.com', timestamp: 1700000000, timezone: '+0000' };
const encoder = new TextEncoder();

async function drain(stream) {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

let serial = 0;

// IndexedDB calls counted per operation (transactions and requests do not depend on the load of
// the machine the way times do): every method of IDBObjectStore that makes a request.
const counts = { transactions: 0, requests: 0 };
// With tracing on (`--profile`), every transaction's span: [start, end, mode, requests].
let trace;
const traced = new WeakMap();
if (typeof IDBDatabase !== 'undefined') {
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    counts.transactions++;
    const tx = transaction.apply(this, args);
    if (trace) {
      const span = { t0: performance.now(), t1: undefined, mode: tx.mode, req: 0 };
      trace.push(span);
      traced.set(tx, span);
      const end = () => (span.t1 = performance.now());
      tx.addEventListener('complete', end);
      tx.addEventListener('abort', end);
    }
    return tx;
  };
  for (const m of ['get', 'getKey', 'getAll', 'getAllKeys', 'put', 'add', 'delete', 'count', 'openCursor', 'openKeyCursor', 'clear']) {
    const f = IDBObjectStore.prototype[m];
    IDBObjectStore.prototype[m] = function (...args) {
      counts.requests++;
      const span = trace && traced.get(this.transaction);
      if (span) span.req++;
      return f.apply(this, args);
    };
  }
}

/** Time within [from, to] with at least one transaction open, and the spans that overlap it. */
function idbBusy(from, to) {
  const spans = (trace ?? []).filter((s) => s.t0 < to && (s.t1 ?? to) > from).map((s) => [Math.max(s.t0, from), Math.min(s.t1 ?? to, to), s]);
  spans.sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let end = from;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    busy += b - Math.max(a, end);
    end = b;
  }
  return { busy, spans: spans.map(([a, b, s]) => ({ at: +(a - from).toFixed(1), ms: +(b - a).toFixed(1), mode: s.mode, req: s.req })) };
}

const spans = {};

async function counted(fn, name) {
  const t0 = { ...counts };
  const start = performance.now();
  // Under the profile script, one CPU profile per operation (DevTools' console profiles).
  if (trace && name) console.profile(name);
  const r = await timed(fn);
  if (trace && name) console.profileEnd(name);
  r.tx = counts.transactions - t0.transactions;
  r.req = counts.requests - t0.requests;
  if (trace && name) spans[name] = { ms: r.ms, ...idbBusy(start, start + r.ms) };
  return r;
}

/** One round on one database kind: a commit of every file, a commit modifying some, depth-1 packs. */
async function round(kind, files, modified) {
  const name = `level-git-bench-${serial++}`;
  const db = kind === 'idb' ? new BrowserLevel(name) : new MemoryLevel();
  await db.open();
  const out = {};
  try {
    let engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('bench');
    const changes = files.map((f) => ({ path: f.path, content: f.content }));
    const first = await counted(() => repo.commit({ branch: 'main', message: 'import\n', author: AUTHOR, changes }), 'commit');
    out.commit = first.ms;
    out.commitTx = first.tx;
    out.commitReq = first.req;
    const edits = files.slice(0, modified).map((f, i) => ({ path: f.path, content: `${f.content}\n// edit ${i}\n` }));
    const second = await counted(() => repo.commit({ branch: 'main', message: 'edit\n', author: AUTHOR, changes: edits }), 'commitModify');
    out.commitModify = second.ms;
    out.commitModifyTx = second.tx;
    out.commitModifyReq = second.req;
    const sha = second.value.sha;
    const warm = await counted(() => drain(repo.packObjects({ wants: [sha], depth: 1 })), 'packWarm');
    out.packWarm = warm.ms;
    out.packWarmTx = warm.tx;
    out.packWarmReq = warm.req;
    out.packBytes = warm.value;
    await engine.close();
    // A fresh engine: its caches are empty, every tree and entry comes from the database.
    engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const cold = await engine.getRepo('bench');
    const coldPack = await counted(() => drain(cold.packObjects({ wants: [sha], depth: 1 })), 'packCold');
    out.packCold = coldPack.ms;
    out.packColdTx = coldPack.tx;
    out.packColdReq = coldPack.req;
    const again = await counted(() => drain(cold.packObjects({ wants: [sha], depth: 1 })), 'packCold2');
    out.packCold2 = again.ms;
    out.packCold2Tx = again.tx;
    out.packCold2Req = again.req;
    await engine.close();
  } finally {
    await db.close();
    if (kind === 'idb') await BrowserLevel.destroy(name);
  }
  return out;
}

/** The platform's own costs over the same files: SHA-1 and deflate of every file. */
function platformCosts(files) {
  const p = getPlatform();
  const bodies = files.map((f) => encoder.encode(f.content));
  const t0 = performance.now();
  for (const b of bodies) p.sha1(b);
  const t1 = performance.now();
  for (const b of bodies) p.deflate(b, 1);
  const t2 = performance.now();
  return { sha1: t1 - t0, deflate: t2 - t1, bytes: bodies.reduce((n, b) => n + b.length, 0) };
}

/** browser-level itself: one batch of n puts, one getMany of the same keys (hits), one of missing keys. */
async function rawLevel(kind, n) {
  const name = `level-git-bench-raw-${serial++}`;
  const db = kind === 'idb' ? new BrowserLevel(name) : new MemoryLevel();
  await db.open();
  const view = { keyEncoding: 'view', valueEncoding: 'view' };
  const keys = Array.from({ length: n }, (_, i) => encoder.encode(`O....${String(i).padStart(20, '0')}`));
  const missing = keys.map((k) => Uint8Array.of(0x44, ...k.subarray(1)));
  const value = new Uint8Array(2000).fill(7);
  try {
    const put = await timed(() =>
      db.batch(
        keys.map((key) => ({ type: 'put', key, value })),
        view,
      ),
    );
    const hit = await timed(() => db.getMany(keys, view));
    const miss = await timed(() => db.getMany(missing, view));
    return { batch: put.ms, getMany: hit.ms, getManyMissing: miss.ms };
  } finally {
    await db.close();
    if (kind === 'idb') await BrowserLevel.destroy(name);
  }
}

function idbRequest(req) {
  return new Promise((ok, fail) => {
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

function idbDone(tx) {
  return new Promise((ok, fail) => {
    tx.oncomplete = () => ok();
    tx.onabort = () => fail(tx.error);
  });
}

/** IndexedDB without browser-level: every request of a transaction issued at once. */
async function rawIdb(n) {
  const name = `level-git-bench-idb-${serial++}`;
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('s');
  const idb = await idbRequest(open);
  const keys = Array.from({ length: n }, (_, i) => encoder.encode(`O....${String(i).padStart(20, '0')}`));
  const missing = keys.map((k) => Uint8Array.of(0x44, ...k.subarray(1)));
  const value = new Uint8Array(2000).fill(7);
  const getAll = (ks) => {
    const tx = idb.transaction(['s'], 'readonly', { durability: 'relaxed' });
    const store = tx.objectStore('s');
    return Promise.all(ks.map((k) => idbRequest(store.get(k))));
  };
  try {
    const put = await timed(() => {
      const tx = idb.transaction(['s'], 'readwrite', { durability: 'relaxed' });
      const store = tx.objectStore('s');
      for (const k of keys) store.put(value, k);
      tx.commit();
      return idbDone(tx);
    });
    const putStrict = await timed(() => {
      const tx = idb.transaction(['s'], 'readwrite', { durability: 'strict' });
      const store = tx.objectStore('s');
      for (const k of keys) store.put(value, k);
      tx.commit();
      return idbDone(tx);
    });
    const range = await timed(() => {
      const tx = idb.transaction(['s'], 'readonly');
      return idbRequest(tx.objectStore('s').getAll(IDBKeyRange.bound(keys[0], keys[n - 1])));
    });
    const rangeKeys = await timed(() => {
      const tx = idb.transaction(['s'], 'readonly');
      return idbRequest(tx.objectStore('s').getAllKeys(IDBKeyRange.bound(keys[0], keys[n - 1])));
    });
    const hit = await timed(() => getAll(keys));
    const miss = await timed(() => getAll(missing));
    return { range: range.ms, rangeKeys: rangeKeys.ms, batch: put.ms, batchStrict: putStrict.ms, getMany: hit.ms, getManyMissing: miss.ms };
  } finally {
    idb.close();
    await idbRequest(indexedDB.deleteDatabase(name));
  }
}

let files;

/**
 * One round on both kinds (`order` says which goes first, so neither always gets the cooler
 * or the warmer page), and with `raw` the platform's and the databases' own costs.
 */
async function run({ files: fileCount = 1000, modified = 100, raw = 0, order = ['memory', 'idb'] } = {}) {
  files ??= await (await fetch('./files.json')).json();
  const some = files.slice(0, fileCount);
  const out = { platform: getPlatform().name, files: some.length };
  for (const kind of order) out[kind] = await round(kind, some, modified);
  if (raw > 0) {
    out.cpu = platformCosts(some);
    out.rawMemory = await rawLevel('memory', raw);
    out.rawIdb = await rawLevel('idb', raw);
    out.rawDirect = await rawIdb(raw);
  }
  return out;
}

/** One round on `kind` with every IndexedDB transaction traced: per operation, its time and the transactions' spans. */
async function profile({ files: fileCount = 1000, modified = 100, kind = 'idb' } = {}) {
  files ??= await (await fetch('./files.json')).json();
  trace = [];
  for (const k of Object.keys(spans)) delete spans[k];
  try {
    const out = await round(kind, files.slice(0, fileCount), modified);
    return { out, spans: { ...spans } };
  } finally {
    trace = undefined;
  }
}

globalThis.levelGitBench = { run, profile };
document.getElementById('status').textContent = 'ready';
