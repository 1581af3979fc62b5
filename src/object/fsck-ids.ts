/**
 * The message ids of git's object checks (Documentation/fsck-msgids.txt, git 2.39), their
 * default classes, and how a caller's `severities` (git's `receive.fsck.<msg-id>`) turn them
 * into what a report says. Classes: `fatal` (always an error, cannot be changed), `error`,
 * `warn` (an error in strict mode, which is what `receive.fsckObjects` and `git fsck --strict`
 * use), `info` (reported as a warning), `ignore` (not reported unless raised).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Oid } from './oid.js';

type Class = 'fatal' | 'error' | 'warn' | 'info' | 'ignore';

// Ids about refs, packed-refs and reftables (git 2.44+) are not object checks: left out.
const TABLE = {
  nulInHeader: 'fatal',
  unterminatedHeader: 'fatal',
  badDate: 'error',
  badDateOverflow: 'error',
  badEmail: 'error',
  badName: 'error',
  badObjectSha1: 'error',
  badParentSha1: 'error',
  badTimezone: 'error',
  badTree: 'error',
  badTreeSha1: 'error',
  badType: 'error',
  duplicateEntries: 'error',
  missingAuthor: 'error',
  missingCommitter: 'error',
  missingEmail: 'error',
  missingNameBeforeEmail: 'error',
  missingObject: 'error',
  missingSpaceBeforeDate: 'error',
  missingSpaceBeforeEmail: 'error',
  missingTag: 'error',
  missingTagEntry: 'error',
  missingTree: 'error',
  missingType: 'error',
  missingTypeEntry: 'error',
  multipleAuthors: 'error',
  treeNotSorted: 'error',
  unknownType: 'error',
  zeroPaddedDate: 'error',
  gitmodulesMissing: 'error',
  gitmodulesBlob: 'error',
  gitmodulesLarge: 'error',
  gitmodulesName: 'error',
  gitmodulesSymlink: 'error',
  gitmodulesUrl: 'error',
  gitmodulesPath: 'error',
  gitmodulesUpdate: 'error',
  gitattributesMissing: 'error',
  gitattributesLarge: 'error',
  gitattributesLineLength: 'error',
  gitattributesBlob: 'error',
  emptyName: 'warn',
  fullPathname: 'warn',
  hasDot: 'warn',
  hasDotdot: 'warn',
  hasDotgit: 'warn',
  nullSha1: 'warn',
  zeroPaddedFilemode: 'warn',
  nulInCommit: 'warn',
  badFilemode: 'info',
  gitmodulesParse: 'info',
  gitignoreSymlink: 'info',
  gitattributesSymlink: 'info',
  mailmapSymlink: 'info',
  badTagName: 'info',
  missingTaggerEntry: 'info',
  extraHeaderEntry: 'ignore',
} as const satisfies Record<string, Class>;

/** A git fsck message id, spelled as git prints it (`hasDotgit`, `badTimezone`...). */
export type FsckId = keyof typeof TABLE;

/** Every message id, in git's order. */
export const FSCK_IDS = Object.keys(TABLE) as readonly FsckId[];

/** What a caller may set a message id to (git's `receive.fsck.<msg-id>` values). */
export type FsckLevel = 'error' | 'warn' | 'ignore';

/** One finding: `error` refuses the object, `warn` is only reported. */
export interface FsckProblem {
  id: FsckId;
  severity: 'error' | 'warn';
  message: string;
}

/** What checking one object found. */
export interface FsckReport {
  /** False when any problem has severity `error`: the object must be refused. */
  ok: boolean;
  problems: readonly FsckProblem[];
  /** Trees only: ids of the blobs this tree names `.gitmodules` (in any spelling git treats so). */
  gitmodules: readonly Oid[];
  /** Trees only: ids of the blobs this tree names `.gitattributes`. */
  gitattributes: readonly Oid[];
}

/** Options of the checks. */
export interface FsckOptions {
  /** Strict mode (default true, as `receive.fsckObjects`): warnings are errors, mode 100664 is bad. */
  strict?: boolean;
  /** Per-id overrides, as git's `receive.fsck.<msg-id>=error|warn|ignore`; ids match case-insensitively. */
  severities?: Readonly<Record<string, FsckLevel>>;
}

const LEVEL_IGNORE = 0;
const LEVEL_WARN = 1;
const LEVEL_ERROR = 2;
type LevelCode = 0 | 1 | 2;

const BY_LOWER = new Map<string, FsckId>(FSCK_IDS.map((id) => [id.toLowerCase(), id]));
const LEVEL_CODES: Record<string, LevelCode> = { error: LEVEL_ERROR, warn: LEVEL_WARN, ignore: LEVEL_IGNORE };

/** Validated options: the level of every id, resolved once. Create with `fsckConfig`. */
export class FsckConfig {
  /** @internal level code (0 ignore, 1 warn, 2 error) of each id. */
  readonly levels: Readonly<Record<FsckId, LevelCode>>;
  /** Strict mode (mode 100664 is a bad mode). */
  readonly strict: boolean;

  /** @internal use fsckConfig(). */
  constructor(levels: Record<FsckId, LevelCode>, strict: boolean) {
    this.levels = Object.freeze(levels);
    this.strict = strict;
    Object.freeze(this);
  }
}

function resolve(options: FsckOptions): FsckConfig {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('fsck options must be an object');
  const strict = options.strict ?? true;
  if (typeof strict !== 'boolean') throw new InvalidArgumentError('fsck option "strict" must be a boolean');
  const levels = {} as Record<FsckId, LevelCode>;
  for (const id of FSCK_IDS) {
    const cls: Class = TABLE[id];
    levels[id] = cls === 'ignore' ? LEVEL_IGNORE : cls === 'info' || (cls === 'warn' && !strict) ? LEVEL_WARN : LEVEL_ERROR;
  }
  const overrides = options.severities;
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null) throw new InvalidArgumentError('fsck option "severities" must be an object');
    for (const [name, value] of Object.entries(overrides)) {
      const id = BY_LOWER.get(name.toLowerCase());
      if (id === undefined) throw new InvalidArgumentError(`unknown fsck message id "${name}"`, { details: { id: name } });
      const code = typeof value === 'string' ? LEVEL_CODES[value] : undefined;
      if (code === undefined)
        throw new InvalidArgumentError(`fsck severity of "${name}" must be "error", "warn" or "ignore"`, { details: { id: name, value } });
      if (TABLE[id] === 'fatal' && code !== LEVEL_ERROR)
        throw new InvalidArgumentError(`fsck message "${id}" cannot be downgraded`, { details: { id, value } });
      levels[id] = code;
    }
  }
  return new FsckConfig(levels, strict);
}

/** The defaults: strict, every id at git's level. */
export const DEFAULT_FSCK_CONFIG: FsckConfig = resolve({});
const cache = new WeakMap<object, FsckConfig>();

/** Validates options once (throws InvalidArgumentError); a config passes through. */
export function fsckConfig(options?: FsckOptions | FsckConfig): FsckConfig {
  if (options === undefined) return DEFAULT_FSCK_CONFIG;
  if (options instanceof FsckConfig) return options;
  let c = cache.get(options);
  if (c === undefined) {
    c = resolve(options);
    cache.set(options, c);
  }
  return c;
}

const NONE: readonly never[] = Object.freeze([]);
/** The report of an object with nothing to say. */
export const CLEAN_REPORT: FsckReport = Object.freeze({ ok: true, problems: NONE, gitmodules: NONE, gitattributes: NONE });

/** Collects the problems of one object; allocates nothing until something is found. */
export class Reporter {
  private problems: FsckProblem[] | null = null;
  private failed = false;
  /** Blob ids named .gitmodules / .gitattributes (trees). */
  gitmodules: Oid[] | null = null;
  gitattributes: Oid[] | null = null;

  constructor(private readonly config: FsckConfig) {}

  /** Records a finding at its configured level; true when that level is error (git stops there). */
  report(id: FsckId, message: string): boolean {
    const level = this.config.levels[id];
    if (level === LEVEL_IGNORE) return false;
    const error = level === LEVEL_ERROR;
    (this.problems ??= []).push({ id, severity: error ? 'error' : 'warn', message });
    if (error) this.failed = true;
    return error;
  }

  /**
   * Records an error whatever the configured level: for objects git's parser cannot read at
   * all (it refuses those before any fsck level applies). Only when nothing refused it yet.
   */
  refuse(id: FsckId, message: string): void {
    if (this.failed) return;
    (this.problems ??= []).push({ id, severity: 'error', message });
    this.failed = true;
  }

  /** The report, or the shared clean one. */
  done(): FsckReport {
    if (this.problems === null && this.gitmodules === null && this.gitattributes === null) return CLEAN_REPORT;
    return { ok: !this.failed, problems: this.problems ?? NONE, gitmodules: this.gitmodules ?? NONE, gitattributes: this.gitattributes ?? NONE };
  }
}
