/**
 * Where a Repository finds its optional services: the review services (`diff.ts`, `merge.ts`)
 * and archives (`archive.ts`). They are installed as loaders (`enable.ts`), not imported by
 * repository.ts, so the bundle of a page that never enables them holds none of their code, and
 * one that does loads each on its first call (a chunk of its own where the bundler splits).
 * The Node entry, the CLI and the JSON API install them (docs/browser.md, "Bundle size").
 */
import { InvalidArgumentError } from '../errors.js';
import type * as ArchiveService from './archive.js';
import type * as Depth1Service from './depth1-plan.js';
import type * as DiffService from './diff.js';
import type * as MergeService from './merge.js';

/** The optional services by name, as their modules. */
export interface Services {
  diff: typeof DiffService;
  merge: typeof MergeService;
  archive: typeof ArchiveService;
  /** Depth-1 plans (depth1-plan.ts): a repository does without them where none is installed. */
  depth1: typeof Depth1Service;
}

const loaders: { [K in keyof Services]?: () => Promise<Services[K]> } = {};
const ENABLE: Record<keyof Services, string> = { diff: 'enableReview', merge: 'enableReview', archive: 'enableArchives', depth1: 'enableDepth1Plans' };

/** Installs the loader of one service for every repository (idempotent). */
export function installService<K extends keyof Services>(name: K, load: () => Promise<Services[K]>): void {
  (loaders as Record<K, () => Promise<Services[K]>>)[name] = load;
}

/** The service's module; InvalidArgumentError naming the call that installs it where none did. */
export function loadService<K extends keyof Services>(name: K, method: string): Promise<Services[K]> {
  const load = loaders[name] as (() => Promise<Services[K]>) | undefined;
  if (load !== undefined) return load();
  return Promise.reject(
    new InvalidArgumentError(`repo.${method} is not enabled in this bundle: call ${ENABLE[name]}() from 'level-git' once at start (the Node entry does)`),
  );
}

/** The service's module where installed, else undefined (for services a repository does without). */
export function installedService<K extends keyof Services>(name: K): Promise<Services[K]> | undefined {
  return (loaders[name] as (() => Promise<Services[K]>) | undefined)?.();
}
