/**
 * The data folder's permissions: the folder holds the admin key, the token signing secret and
 * every repository, so it is the server user's alone. Whatever created it (an older version, a
 * deployment script, a restore from backup), `secureDataFolder` narrows it on every start:
 * folders 0700, files 0600. Where a mode cannot be changed (another owner, a read-only mount)
 * it says so, for the operator to fix, instead of serving silently from a readable folder.
 * Files created later get 0600 from the process umask the CLI sets (main.ts).
 */
import { chmodSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Narrows `dir` and everything in it to 0700 / 0600; returns one warning per path left looser. */
export function secureDataFolder(dir: string): string[] {
  const warnings: string[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return; // chmod would follow it out of the folder
    const want = st.isDirectory() ? DIR_MODE : FILE_MODE;
    if ((st.mode & 0o777 & ~want) !== 0) {
      try {
        chmodSync(path, want);
      } catch (err) {
        warnings.push(
          `warning: ${path} has mode 0${(st.mode & 0o777).toString(8)}, readable by others, and it could not be changed to 0${want.toString(8)} (${(err as { code?: string }).code ?? String(err)})`,
        );
      }
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return warnings;
}

/** Writes a secret to `file` with mode 0600 (narrowing an existing file first, so it is never readable by others with the new content). */
export function writeSecretFile(file: string, value: string): void {
  try {
    chmodSync(file, FILE_MODE);
  } catch {
    // Not there yet: created 0600 below.
  }
  writeFileSync(file, value + '\n', { mode: FILE_MODE });
}
