/**
 * What a browser bundle gets for the `level` package (package.json's `browser` map points
 * `level` here): `openEngine({ path })` opens classic-level, an on-disk Node addon, so in a
 * page it fails with a clear message instead of pulling `level` and its native addon into
 * the bundle. Pages pass `{ db: new BrowserLevel(name) }` (docs/browser.md).
 */

/** Stand-in for `level`'s `Level` in browser bundles: constructing it explains what to do instead. */
export class Level {
  constructor(location: string) {
    throw new TypeError(
      `openEngine({ path: ${JSON.stringify(location)} }) needs Node (classic-level on disk); in a browser pass { db: new BrowserLevel(name) } from browser-level`,
    );
  }
}
