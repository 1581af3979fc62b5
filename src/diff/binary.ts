/**
 * Binary detection as git does it without attributes (xdiff-interface.c `buffer_is_binary`):
 * a file is binary when a NUL byte occurs in its first 8,000 bytes.
 */

/** How many leading bytes git looks at. */
export const FIRST_FEW_BYTES = 8000;

/** True when `bytes` holds a NUL in its first 8,000 bytes. */
export function isBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, FIRST_FEW_BYTES);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}
