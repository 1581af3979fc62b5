// The page's entry: exposes the scenario to the test driver, and runs it in a Web Worker on request.
import { create, reopen, pushBack, pathError } from './scenario.js';

function inWorker(dbName) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./worker.js', { type: 'module' });
    worker.onmessage = (e) => {
      worker.terminate();
      if (e.data.error) reject(new Error(e.data.error));
      else resolve(e.data.result);
    };
    worker.onerror = (e) => reject(new Error(e.message || 'worker failed'));
    worker.postMessage({ dbName });
  });
}

globalThis.levelGitTest = { create, reopen, pushBack, pathError, inWorker };
document.getElementById('status').textContent = 'ready';
