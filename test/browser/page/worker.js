// The Web Worker entry: the same engine and scenario, off the main thread.
import { create, reopen } from './scenario.js';

self.onmessage = async (e) => {
  try {
    const created = await create(e.data.dbName);
    const reopened = await reopen(e.data.dbName);
    self.postMessage({ result: { created, reopened } });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
