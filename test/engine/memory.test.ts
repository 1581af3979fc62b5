/** The engine conformance suite over memory-level. */
import { conformance } from './conformance.js';
import { memoryFactory } from './helpers.js';

conformance('memory-level', memoryFactory);
