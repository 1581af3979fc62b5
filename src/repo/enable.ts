/**
 * `enableReview`, `enableArchives` and `enableDepth1Plans`: install the optional services of services.ts. Each
 * loader is a dynamic import, so a bundler that splits code loads the service on its first
 * call, and one that does not still includes it only when the app calls the function.
 */
import { installService } from './services.js';

/**
 * Gives repositories `diff`, `compare`, `merge`, `revert` and `cherryPick`. The Node entry, the
 * CLI and the JSON API call it; a browser bundle calls it once when it wants them (without it
 * they add nothing to the bundle, and the methods reject with ERR_INVALID_ARGUMENT).
 */
export function enableReview(): void {
  installService('diff', () => import('./diff.js'));
  installService('merge', () => import('./merge.js'));
}

/** Gives repositories `archive` (tar, tar.gz, zip), as `enableReview` does for the review services. */
export function enableArchives(): void {
  installService('archive', () => import('./archive.js'));
}

/**
 * Gives repositories depth-1 plans (depth1-plan.ts: a fresh process's first depth-1 clone of a
 * large tip skips the tree walk). The Node entry and Node's HTTP handler call it; a browser
 * bundle without it plans every depth-1 clone, as before them, and carries none of their code.
 */
export function enableDepth1Plans(): void {
  installService('depth1', () => import('./depth1-plan.js'));
}
