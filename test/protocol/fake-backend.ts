/**
 * A test-only GitBackend over a bare repository on disk, driven by the real `git` binary
 * (for-each-ref, cat-file, pack-objects, index-pack, update-ref). It lets the protocol and
 * HTTP layers be tested end to end against real packs without the storage engine; it is not
 * a model of how the engine stores anything.
 */
import { gitOk, runGit } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import type { AdvertisedRef, FetchRequest, FetchResponse, GitBackend, ReceiveOptions, ReceiveResult, RefCommand } from '../../src/protocol/backend.js';
import { ZERO_OID, type Oid } from '../../src/object/oid.js';

/** Runs git; re-exported for the tests that imported it from here. */
export { runGit };

/** Runs git; throws on failure, returns trimmed stdout. */
const git = gitOk;

/** GitBackend over a bare repository directory. */
export class GitDirBackend implements GitBackend {
  /** Calls seen, for assertions. */
  readonly calls: { fetch: FetchRequest[]; receive: { commands: readonly RefCommand[]; options: ReceiveOptions }[] } = { fetch: [], receive: [] };

  constructor(readonly gitDir: string) {}

  /** Creates an empty bare repository (HEAD → refs/heads/main) in a temp dir. */
  static async create(): Promise<GitDirBackend & { cleanup(): void }> {
    const { dir, cleanup } = tempDir('level-git-fake-');
    await git(['init', '-q', '--bare', '-b', 'main', dir]);
    const b = new GitDirBackend(dir) as GitDirBackend & { cleanup(): void };
    b.cleanup = cleanup;
    return b;
  }

  private g(args: string[], opts: Parameters<typeof runGit>[1] = {}): Promise<string> {
    return git(args, { cwd: this.gitDir, ...opts });
  }

  async listRefs(prefixes?: readonly string[]): Promise<AdvertisedRef[]> {
    const out: AdvertisedRef[] = [];
    const head = await runGit(['symbolic-ref', 'HEAD'], { cwd: this.gitDir });
    const target = head.stdout.toString().trim();
    const text = await this.g(['for-each-ref', '--format=%(objectname) %(refname) %(*objectname)']);
    const refs: AdvertisedRef[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [oid, name, peeled] = line.split(' ');
      const r: AdvertisedRef = { name: name!, oid: oid as Oid };
      if (peeled) r.peeled = peeled as Oid;
      refs.push(r);
    }
    const headRef: AdvertisedRef = { name: 'HEAD', symref: target };
    const t = refs.find((r) => r.name === target);
    if (t) headRef.oid = t.oid;
    out.push(headRef, ...refs);
    return prefixes ? out.filter((r) => prefixes.some((p) => r.name.startsWith(p))) : out;
  }

  async hasObjects(oids: readonly Oid[]): Promise<Set<Oid>> {
    const r = await runGit(['cat-file', '--batch-check=%(objectname)'], { cwd: this.gitDir, input: oids.join('\n') + '\n' });
    const found = new Set<Oid>();
    for (const line of r.stdout.toString().split('\n')) if (/^[0-9a-f]{40}$/.test(line)) found.add(line as Oid);
    return found;
  }

  async invalidWants(wants: readonly Oid[]): Promise<Oid[]> {
    const have = await this.hasObjects(wants);
    return wants.filter((w) => !have.has(w));
  }

  /** Parents of every commit reachable from `tips`. */
  private async parents(tips: readonly Oid[]): Promise<Map<Oid, Oid[]>> {
    const text = await this.g(['rev-list', '--parents', ...tips]);
    const m = new Map<Oid, Oid[]>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [c, ...ps] = line.split(' ') as Oid[];
      m.set(c!, ps);
    }
    return m;
  }

  async fetch(request: FetchRequest): Promise<FetchResponse> {
    this.calls.fetch.push(request);
    const shallow: Oid[] = [];
    const unshallow: Oid[] = [];
    const boundaries = new Set<Oid>(request.clientShallows);
    let haves = request.haves;
    if (request.depth !== undefined) {
      const types = (await this.g(['cat-file', '--batch-check=%(objecttype)'], { input: request.wants.join('\n') + '\n' })).split('\n');
      const commitWants = request.wants.filter((_, i) => types[i] === 'commit');
      const parents = await this.parents(commitWants);
      boundaries.clear();
      // deepen-relative counts from the client's current boundary, plain deepen from the wants.
      const relative = request.deepenRelative === true && request.clientShallows.length > 0;
      let frontier: Oid[] = relative ? [...request.clientShallows] : commitWants;
      const seen = new Set<Oid>(frontier);
      if (relative) {
        // Everything between the wants and the old boundary counts as seen.
        const stop = new Set(request.clientShallows);
        const stack = [...commitWants];
        while (stack.length > 0) {
          const c = stack.pop()!;
          if (seen.has(c) && !commitWants.includes(c)) continue;
          seen.add(c);
          if (!stop.has(c)) for (const p of parents.get(c) ?? []) stack.push(p);
        }
      }
      const steps = relative ? request.depth : request.depth - 1;
      for (let d = 0; d < steps && frontier.length > 0; d++) {
        const next: Oid[] = [];
        for (const c of frontier) for (const p of parents.get(c) ?? []) if (!seen.has(p)) seen.add(p), next.push(p);
        frontier = next;
      }
      for (const c of frontier) if ((parents.get(c) ?? []).length > 0) boundaries.add(c);
      for (const b of boundaries) if (!request.clientShallows.includes(b)) shallow.push(b);
      for (const s of request.clientShallows) if (!boundaries.has(s) && seen.has(s)) unshallow.push(s);
      for (const s of request.clientShallows) if (!seen.has(s)) boundaries.add(s);
      // A shallow client's haves would hide history it lacks behind its old boundary: this fake
      // simply ignores them when deepening (a bigger pack, still correct).
      if (request.clientShallows.length > 0) haves = [];
    }
    const args = ['pack-objects', '--stdout', '--revs', '--quiet'];
    if (request.thinPack) args.push('--thin');
    if (request.ofsDelta) args.push('--delta-base-offset');
    if (request.includeTag) args.push('--include-tag');
    if (boundaries.size > 0) args.push('--shallow');
    if (request.filter) {
      const f = request.filter;
      args.push(`--filter=${f.kind === 'blob:none' ? 'blob:none' : f.kind === 'blob:limit' ? `blob:limit=${f.limit}` : `tree:${f.depth}`}`);
    }
    // No blank lines: pack-objects stops reading its revisions at the first one.
    const input = [...[...boundaries].map((b) => `--shallow ${b}`), ...request.wants, ...haves.map((h) => `^${h}`)].join('\n') + '\n';
    const r = await runGit(args, { cwd: this.gitDir, input });
    if (r.code !== 0) throw new Error(`pack-objects failed: ${r.stderr}`);
    const pack = r.stdout;
    return {
      shallow,
      unshallow,
      pack: (async function* () {
        for (let i = 0; i < pack.length; i += 8192) yield new Uint8Array(pack.subarray(i, i + 8192));
      })(),
    };
  }

  async receive(commands: readonly RefCommand[], pack: AsyncIterable<Uint8Array> | null, options: ReceiveOptions): Promise<ReceiveResult> {
    this.calls.receive.push({ commands, options });
    if (pack) {
      const r = await runGit(['index-pack', '--stdin', '--fix-thin'], { cwd: this.gitDir, input: pack });
      if (r.code !== 0) return { unpackError: 'index-pack failed', results: commands.map((c) => ({ ref: c.ref, ok: false, reason: 'unpacker error' })) };
    }
    const refused = new Map<string, string>();
    for (const c of commands) {
      if (!c.ref.startsWith('refs/')) refused.set(c.ref, 'funny refname');
      if (options.policy) {
        const create = c.oldOid === ZERO_OID;
        const del = c.newOid === ZERO_OID;
        let force = false;
        if (!create && !del) force = (await runGit(['merge-base', '--is-ancestor', c.oldOid, c.newOid], { cwd: this.gitDir })).code !== 0;
        const reason = options.policy({ ...c, create, delete: del, force });
        if (reason) refused.set(c.ref, reason);
      }
    }
    if (options.atomic) {
      if (refused.size > 0) {
        return { results: commands.map((c) => ({ ref: c.ref, ok: false, reason: refused.get(c.ref) ?? 'atomic push failed' })) };
      }
      const input = ['start', ...commands.map((c) => `update ${c.ref} ${c.newOid} ${c.oldOid}`), 'prepare', 'commit', ''].join('\n');
      const r = await runGit(['update-ref', '--stdin'], { cwd: this.gitDir, input });
      const ok = r.code === 0;
      return { results: commands.map((c) => (ok ? { ref: c.ref, ok } : { ref: c.ref, ok, reason: 'atomic transaction failed' })) };
    }
    const results: ReceiveResult['results'] = [];
    for (const c of commands) {
      const reason = refused.get(c.ref);
      if (reason) {
        results.push({ ref: c.ref, ok: false, reason });
        continue;
      }
      const args = c.newOid === ZERO_OID ? ['update-ref', '-d', c.ref, c.oldOid] : ['update-ref', c.ref, c.newOid, c.oldOid];
      const r = await runGit(args, { cwd: this.gitDir });
      results.push(r.code === 0 ? { ref: c.ref, ok: true } : { ref: c.ref, ok: false, reason: 'failed to update ref' });
    }
    return { results };
  }
}
