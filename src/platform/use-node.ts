/**
 * Side effect of the Node entry: installs the Node platform over statically imported
 * `node:crypto`/`node:zlib`, so Node versions without `process.getBuiltinModule` (before
 * 20.16) run native too. Imported first by `src/node.ts`; never by a browser bundle.
 */
import { nodePlatform } from './node.js';
import { setPlatform } from './index.js';

setPlatform(nodePlatform);
