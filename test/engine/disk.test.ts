/** The engine conformance suite over the embedded on-disk default (`openEngine({ path })`). */
import { conformance } from './conformance.js';
import { diskFactory } from './helpers.js';

conformance('on-disk default (classic-level)', diskFactory);
