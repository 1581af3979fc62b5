/**
 * The platform a process starts with when nothing chose one: Node's native modules where the
 * runtime hands them out synchronously (`process.getBuiltinModule`), the portable code
 * elsewhere. Browser bundles never see this file: package.json's `browser` map swaps it for
 * `default-browser.ts`, so a page always starts portable (`setPlatform` overrides).
 */
import type { Platform } from './types.js';
import { portablePlatform } from './portable.js';
import { nodePlatformFromRuntime } from './node-impl.js';

/** Node's native platform when the runtime offers it, else the portable one. */
export function defaultPlatform(): Platform {
  return nodePlatformFromRuntime() ?? portablePlatform;
}
