/**
 * The package's Node entry (`exports["."].node`): the same public surface as `index.ts`, with
 * the Node platform (native SHA-1 and zlib) installed before anything else loads. Bundles for
 * browsers take `index.ts` instead and never see a `node:` import.
 */
import './platform/use-node.js';
import { enableRemotes } from './webhooks/enable.js';
import { enableArchives, enableDepth1Plans, enableReview } from './repo/enable.js';

// Browser bundles opt in to each (docs/browser.md, "Bundle size"); Node has them all.
enableRemotes(); // repo.fetchFrom, repo.pushTo and webhooks
enableReview(); // repo.diff, compare, merge, revert, cherryPick
enableArchives(); // repo.archive
enableDepth1Plans(); // stored depth-1 plans (a fresh process's first depth-1 clone skips the tree walk)

export * from './index.js';
