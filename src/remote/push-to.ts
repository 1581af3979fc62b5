/**
 * `repo.pushTo`: a push to another Git server over smart HTTP (receive-pack, protocol v0 as
 * git pushes). The remote's advertised refs decide the commands (unchanged refs are
 * `up-to-date`, non-fast-forwards `rejected` unless `force`, as git's client refuses them) and
 * are the haves of the pack: the planner (repo/walk.ts through `packObjects`) sends what the
 * remote lacks, thin against what it has, streamed into the request as it is generated
 * (chunked; the objects stay pinned against the sweep until the last byte), so memory stays
 * bounded whatever the pack's size. report-status says what the remote did with each ref.
 */
import { InvalidArgumentError, RemoteError } from '../errors.js';
import { type Oid, ZERO_OID } from '../object/oid.js';
import { internalsOf } from '../repo/internals.js';
import type { Repository } from '../repo/repository.js';
import type { PushRefStatus, PushToOptions, PushToResult } from '../repo/remotes.js';
import { AGENT } from '../protocol/capabilities.js';
import { parseRemoteUrl } from './guard.js';
import type { Credentials, RemoteHttpOptions } from './http-client.js';
import { discover, post, serviceBase } from './fetch-from.js';
import { type PushCommand, encodePushCommands, pktReader, readReportStatus, sidebandData } from './smart-http.js';

/** The local refs to push: the named ones (short names by git's rule) or every branch and tag. */
async function localRefs(repo: Repository, names: readonly string[] | undefined): Promise<{ ref: string; oid: Oid }[]> {
  const all = (await repo.listRefs()).filter(([n]) => n.startsWith('refs/heads/') || n.startsWith('refs/tags/')).map(([ref, v]) => ({ ref, oid: v.oid }));
  if (names === undefined) return all;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === '')) throw new InvalidArgumentError('refs must be an array of ref names');
  return names.map((name) => {
    for (const full of [name, `refs/heads/${name}`, `refs/tags/${name}`]) {
      const hit = all.find((r) => r.ref === full);
      if (hit) return hit;
    }
    throw new InvalidArgumentError(`no branch or tag ${JSON.stringify(name.slice(0, 200))} to push`, { details: { ref: name } });
  });
}

/** See the module comment. */
export async function pushTo(repo: Repository, url: string, options: PushToOptions, http: RemoteHttpOptions): Promise<PushToResult> {
  const target = parseRemoteUrl(url, http.allowPrivate === true);
  const credentials: Credentials = { username: options.username ?? target.username, password: options.password ?? target.password };
  const h = { ...http, credentials };
  const refs = await localRefs(repo, options.refs);
  const { adv, base } = await discover(serviceBase(target.url), 'git-receive-pack', h, false);
  if (adv.version !== 0) throw new RemoteError('ERR_REMOTE', 'the remote answered receive-pack with protocol v2');
  const remote = new Map(adv.refs.map((r) => [r.name, r.oid]));
  const objects = internalsOf(repo).objects;
  const remoteTips = [...new Set(remote.values())];
  const known = await objects.has(remoteTips);
  const haves = remoteTips.filter((_, i) => known[i]);

  const statuses: PushRefStatus[] = [];
  const commands: PushCommand[] = [];
  for (const { ref, oid } of refs) {
    const old = remote.get(ref) ?? ZERO_OID;
    if (old === oid) {
      statuses.push({ ref, status: 'up-to-date' });
      continue;
    }
    if (old !== ZERO_OID && !options.force) {
      if (ref.startsWith('refs/tags/')) {
        statuses.push({ ref, status: 'rejected', reason: 'already exists' });
        continue;
      }
      const have = haves.includes(old);
      if (!have || !(await repo.isAncestor(old, oid).catch(() => false))) {
        statuses.push({ ref, status: 'rejected', reason: have ? 'non-fast-forward' : 'fetch first' });
        continue;
      }
    }
    commands.push({ ref, old, new: oid });
  }
  if (commands.length === 0) return { updates: statuses };

  const sideband = adv.caps.has('side-band-64k');
  const caps = ['report-status', ...(sideband ? ['side-band-64k'] : []), 'quiet', `agent=${AGENT}`].filter(
    (c) => c.startsWith('agent=') || c === 'report-status' || adv.caps.has(c),
  );
  if (!adv.caps.has('report-status')) throw new RemoteError('ERR_REMOTE', 'the remote does not offer report-status');
  const thin = !adv.caps.has('no-thin');
  // Planned and streamed past the pack cache: a push's pack is never asked for again.
  const plan = await repo.planPack({ wants: [...new Set(commands.map((c) => c.new))], haves, thinPack: thin });
  const pack = internalsOf(repo).streamPack(plan.oids, {
    deltas: true,
    thinBases: plan.clientObjects,
    preferredBases: plan.preferredBases,
    clientBases: plan.clientBases,
  });
  const body = (async function* () {
    yield encodePushCommands(commands, caps);
    yield* pack; // pulled as the connection takes it: about two batches of entries in memory
  })();
  const reader = await post(base, 'git-receive-pack', body, h, false);
  const report = await readReportStatus(sideband ? pktReader(sidebandData(reader)) : reader);
  if (report.unpack !== 'ok') throw new RemoteError('ERR_REMOTE', `the remote could not unpack the pack: ${report.unpack || 'no report'}`);
  for (const c of commands) {
    const r = report.refs.get(c.ref);
    if (r?.ok) statuses.push({ ref: c.ref, status: 'ok' });
    else statuses.push({ ref: c.ref, status: 'rejected', reason: r?.reason ?? 'no status from the remote' });
  }
  const order = new Map(refs.map((r, i) => [r.ref, i]));
  statuses.sort((a, b) => order.get(a.ref)! - order.get(b.ref)!);
  return { updates: statuses };
}
