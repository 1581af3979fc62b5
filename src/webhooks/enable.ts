/** `enableRemotes`: installs the remote client and webhooks into engines opened afterwards. */
import { installEngineEvents } from '../engine-events.js';
import { EngineEvents } from './services.js';

/**
 * Gives engines opened from now on `repo.fetchFrom`, `repo.pushTo` and `engine.webhooks` (with
 * their delivery loop). The Node entry and the CLI call it at load; a browser bundle calls it
 * when it wants them (without it they add nothing to the bundle).
 */
export function enableRemotes(): void {
  installEngineEvents((kv, options, repoId) => new EngineEvents(kv, options, repoId));
}
