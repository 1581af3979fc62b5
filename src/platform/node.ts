/**
 * The Node platform over statically imported `node:crypto` and `node:zlib` (native, 1.6–2×
 * faster than the portable code). Imported only by the Node entry (`src/node.ts`, through
 * `use-node.ts`) and by tests: a browser bundle never reaches it. Only this folder and
 * http/node* import `node:`.
 */
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import * as workerThreads from 'node:worker_threads';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as fs from 'node:fs';
import type { Platform } from './types.js';
import { createNodePlatform } from './node-impl.js';

/** Node's native SHA-1 and zlib, a pool of worker threads, minor collections on demand and scratch files. */
export const nodePlatform: Platform = createNodePlatform(crypto, zlib, { workerThreads, os }, { v8, vm }, { fs, os });
