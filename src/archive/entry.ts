/** What the archive encoders take: one tree entry, in the order `git archive` writes them. */

/** One archived path. */
export interface ArchiveEntry {
  /** Full path in the archive (the prefix included); directories may end in `/` or not. */
  path: string;
  /** `dir` also stands for a submodule (gitlink), which git archives as an empty directory. */
  kind: 'dir' | 'file' | 'symlink';
  /** The git mode as a number (`0o100644`, `0o100755`, `0o120000`, `0o40000`, `0o160000`). */
  mode: number;
  /** The object id (hex): names pax headers of long paths. */
  oid: string;
  /** A file's bytes or a symlink's target; absent for directories. */
  content?: Uint8Array;
}
