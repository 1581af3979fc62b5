/**
 * The package's Node entry (`exports["."].node`): the same public surface as `index.ts`, with
 * the Node platform (native SHA-1 and zlib) installed before anything else loads. Bundles for
 * browsers take `index.ts` instead and never see a `node:` import.
 */
import './platform/use-node.js';
import { enableRemotes } from './webhooks/enable.js';

enableRemotes(); // repo.fetchFrom, repo.pushTo and webhooks (browser bundles opt in)

export * from './index.js';
