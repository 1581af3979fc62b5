/**
 * The one rule that says what a ref update is: a create, a delete, a fast-forward, or a forced
 * (non-fast-forward) move. receive-pack's policy check and the JSON API's policy check both
 * describe updates through `describeRefUpdate`, so a token's ref policies judge a push and an
 * API call alike.
 */
import { InvalidObjectError, MissingObjectsError, NotFoundError } from '../errors.js';
import type { ObjectStore } from '../object/object-store.js';
import { ZERO_OID, type Oid } from '../object/oid.js';
import type { RefUpdateInfo } from '../protocol/backend.js';
import { isAncestor } from './walk.js';

/**
 * Describes moving `ref` from `oldOid` to `newOid` (ZERO_OID: absent). A move is forced unless the
 * old value is a commit that is an ancestor of the new one; when the new value is no commit or
 * its history is missing objects the move cannot be shown to be a fast-forward and counts as
 * forced. Storage failures propagate.
 */
export async function describeRefUpdate(objects: ObjectStore, ref: string, oldOid: Oid, newOid: Oid): Promise<RefUpdateInfo> {
  const del = newOid === ZERO_OID;
  const create = oldOid === ZERO_OID;
  let force = false;
  if (!del && !create) {
    const [oldInfo] = await objects.info([oldOid]);
    force = oldInfo?.type !== 'commit' || !(await isAncestorOrMissing(objects, oldOid, newOid));
  }
  return { ref, oldOid, newOid, force, delete: del, create };
}

async function isAncestorOrMissing(objects: ObjectStore, ancestor: Oid, descendant: Oid): Promise<boolean> {
  try {
    return await isAncestor(objects, ancestor, descendant);
  } catch (err) {
    if (err instanceof MissingObjectsError || err instanceof NotFoundError || err instanceof InvalidObjectError) return false;
    throw err;
  }
}
