/**
 * Progress of upload-pack on side-band channel 2, as C git's pack-objects words it (git prints
 * each line as `remote: ...`):
 *
 *   Enumerating objects: N, done.
 *   Counting objects: 100% (N/N), done.
 *   Total N, reused N, pack-reused 0
 *
 * The count is read from the pack header as it passes (the pack is planned before the response
 * starts, so there is nothing to report while it is counted). Every entry is a stored one copied
 * as it is, hence "reused N"; C git's "(delta D)" is left out because entries are not parsed on
 * their way, and there is no compression line: nothing is deflated or delta-searched while serving. Sent only when the client did not
 * say `no-progress` (a v0 capability, a v2 fetch argument).
 */

/** A pack stream that reports its progress lines, and those lines. */
export interface PackProgress {
  /** The pack, unchanged, observed on its way. */
  pack: AsyncIterable<Uint8Array>;
  /** Progress lines due since the last call (each ends with a newline). */
  take: () => string[];
}

/** The object count of a pack header (`PACK`, version, count), or undefined when `chunk` does not start with one. */
export function packHeaderCount(chunk: Uint8Array): number | undefined {
  if (chunk.length < 12 || chunk[0] !== 0x50 || chunk[1] !== 0x41 || chunk[2] !== 0x43 || chunk[3] !== 0x4b) return undefined;
  return new DataView(chunk.buffer, chunk.byteOffset, 12).getUint32(8);
}

/** Observes `pack` and words its progress (see the module comment). */
export function packProgress(pack: AsyncIterable<Uint8Array>): PackProgress {
  let due: string[] = [];
  const take = () => {
    const out = due;
    due = [];
    return out;
  };
  async function* observed(): AsyncGenerator<Uint8Array> {
    let count: number | undefined;
    let first = true;
    for await (const chunk of pack) {
      if (first) {
        first = false;
        count = packHeaderCount(chunk);
        if (count !== undefined) due.push(`Enumerating objects: ${count}, done.\n`, `Counting objects: 100% (${count}/${count}), done.\n`);
      }
      yield chunk;
    }
    if (count === undefined) return;
    due.push(`Total ${count}, reused ${count}, pack-reused 0\n`);
  }
  return { pack: observed(), take };
}
