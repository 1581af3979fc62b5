/**
 * The starting platform of a browser bundle (package.json's `browser` map puts this file in
 * place of `default.ts`): always the portable one, whatever globals the page has. An Electron
 * renderer with Node integration opts into Node's modules with `setPlatform('node')`.
 */
import type { Platform } from './types.js';
import { portablePlatform } from './portable.js';

/** The portable platform: a browser bundle never starts on Node's modules. */
export function defaultPlatform(): Platform {
  return portablePlatform;
}
