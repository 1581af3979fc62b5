/**
 * The errors of the object checks (object/fsck.ts), shared by every write path (pushes and
 * `indexPack` in ingest.ts, API commits in commit.ts and build-tree.ts): a content finding
 * is an FsckError carrying git's message id, a reference to the wrong type an
 * InvalidObjectError naming the reference.
 */
import { FsckError, InvalidObjectError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import { describeFsckFailure, type FsckReport, type ReferenceRole } from '../object/fsck.js';

/** Throws FsckError (git's message id first in its message) when `report` refuses the object. */
export function refuseIfBad(oid: Oid, type: ObjectType, report: FsckReport): void {
  const failure = describeFsckFailure(oid, type, report);
  if (failure !== null) throw new FsckError(failure.message, { details: failure.details });
}

/** A reference of `from` (a `fromType`) whose target is missing or of another type, as an InvalidObjectError. */
export function referenceTypeError(
  from: Oid,
  fromType: ObjectType,
  ref: { oid: Oid; expected: ObjectType; role: ReferenceRole; name?: string },
  actual: ObjectType | null,
): InvalidObjectError {
  const where = ref.role === 'entry' ? `entry ${JSON.stringify(ref.name)}` : ref.role === 'tagged' ? 'tagged object' : ref.role;
  const what = actual === null ? 'is missing' : `is a ${actual}, not a ${ref.expected}`;
  const reference = { oid: ref.oid, expected: ref.expected, actual, role: ref.role, ...(ref.name !== undefined ? { name: ref.name } : {}) };
  return new InvalidObjectError(`${fromType} ${from}: ${where} ${ref.oid} ${what}`, { details: { oid: from, type: fromType, reference } });
}
