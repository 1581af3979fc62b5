/**
 * The fetch-argument rules, fed by both protocol versions: the same arguments sent as v2
 * `fetch` lines and as a v0/v1 body must give the same request, and be refused alike. The
 * expected refusals are what C git 2.39's upload-pack does with the same input.
 */
import { describe, expect, it } from 'vitest';
import { parseFetchArgs, readV0FetchRequest, type ParsedFetch } from '../../src/protocol/fetch-request.js';
import { encodePkt, PktReader } from '../../src/protocol/pkt-line.js';
import { DEFAULT_UPLOAD_PACK_LIMITS } from '../../src/protocol/limits.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** A v0 body: strings become pkt-lines, '0000' a flush. */
function v0Body(...lines: string[]): Uint8Array {
  return Buffer.concat(lines.map((l) => (l === '0000' ? Buffer.from(l) : Buffer.from(encodePkt(l + '\n')))));
}

const v0 = (lines: string[], limits = {}) => readV0FetchRequest(new PktReader(once(v0Body(...lines))), { ...DEFAULT_UPLOAD_PACK_LIMITS, ...limits });
const v2 = (args: string[], limits = {}) => parseFetchArgs(args, { ...DEFAULT_UPLOAD_PACK_LIMITS, ...limits });

/**
 * The same request in both versions: `section` are value arguments of the want section,
 * `flags` travel as v2 lines or v0 capabilities, `haves` and `done` follow.
 */
async function both(o: {
  wants?: string[];
  section?: string[];
  flags?: string[];
  haves?: string[];
  done?: boolean;
  limits?: object;
}): Promise<[ParsedFetch, ParsedFetch]> {
  const wants = o.wants ?? [A];
  const section = o.section ?? [];
  const flags = o.flags ?? [];
  const haves = (o.haves ?? []).map((h) => `have ${h}`);
  const done = o.done ?? true;
  const fromV2 = v2([...wants.map((w) => `want ${w}`), ...section, ...flags, ...haves, ...(done ? ['done'] : [])], o.limits);
  // v0 negotiates filtering as a capability; v2 advertised it already.
  const caps = section.some((l) => l.startsWith('filter ')) ? [...flags, 'filter'] : flags;
  const v0Wants = wants.map((w, i) => (i === 0 && caps.length > 0 ? `want ${w} ${caps.join(' ')}` : `want ${w}`));
  const fromV0 = await v0([...v0Wants, ...section, '0000', ...haves, ...(done ? ['done'] : ['0000'])], o.limits);
  return [fromV2, fromV0!];
}

/** Both versions refuse, with the same message. */
async function refusedByBoth(o: Parameters<typeof both>[0], message: RegExp): Promise<void> {
  await expect(both(o)).rejects.toThrow(message);
  // both() stops at the first throw (v2): check v0 on its own too.
  const wants = o.wants ?? [A];
  const flags = o.flags ?? [];
  const v0Wants = wants.map((w, i) => (i === 0 && flags.length > 0 ? `want ${w} ${flags.join(' ')}` : `want ${w}`));
  await expect(v0([...v0Wants, ...(o.section ?? []), '0000', 'done'], o.limits)).rejects.toThrow(message);
}

describe('fetch arguments: one rule for v0 and v2', () => {
  it('gives the same request for every argument', async () => {
    const [a, b] = await both({
      wants: [A, B, A],
      section: [`shallow ${C}`, 'deepen 3', 'filter blob:limit=1k'],
      flags: ['thin-pack', 'ofs-delta', 'include-tag', 'no-progress', 'deepen-relative'],
      haves: [B, C],
    });
    expect(a.request).toEqual(b.request);
    expect(a.request).toMatchObject({
      wants: [A, B],
      haves: [B, C],
      clientShallows: [C],
      depth: 3,
      deepenRelative: true,
      filter: { kind: 'blob:limit', limit: 1024 },
      thinPack: true,
      ofsDelta: true,
      includeTag: true,
    });
    expect([a.done, a.noProgress, a.deepen]).toEqual([true, true, true]);
    expect([b.done, b.noProgress, b.deepen]).toEqual([true, true, true]);
  });

  it('reads deepen-since and deepen-not alike', async () => {
    const [a, b] = await both({ section: ['deepen-since 1700000000', 'deepen-not refs/heads/old', 'deepen-not v1'] });
    expect(a.request).toEqual(b.request);
    expect(a.request).toMatchObject({ deepenSince: 1700000000, deepenNot: ['refs/heads/old', 'v1'] });
  });

  it('without flags nothing is asked for', async () => {
    const [a, b] = await both({});
    expect(a.request).toEqual(b.request);
    expect(a.request).toMatchObject({ thinPack: false, ofsDelta: false, includeTag: false });
  });

  it('refuses an empty deepen-not in both (C git: "ambiguous deepen-not")', async () => {
    await refusedByBoth({ section: ['deepen-not '] }, /deepen-not needs a ref/);
  });

  it('refuses deepen 0, bad numbers, bad ids, and deepen with deepen-since or deepen-not', async () => {
    await refusedByBoth({ section: ['deepen 0'] }, /deepen 0/);
    await refusedByBoth({ section: ['deepen x'] }, /not a number/);
    await refusedByBoth({ section: ['deepen-since -1'] }, /not a number/);
    await refusedByBoth({ section: ['shallow xyz'] }, /shallow: expected/);
    await refusedByBoth({ wants: ['A'.repeat(40)] }, /want: expected/);
    await refusedByBoth({ section: ['deepen 1', 'deepen-since 5'] }, /cannot be used together/);
    await refusedByBoth({ section: ['deepen 1', 'deepen-not main'] }, /cannot be used together/);
    await refusedByBoth({ flags: ['deepen-relative'] }, /deepen-relative needs deepen/);
  });

  it('refuses a second filter and unknown arguments', async () => {
    expect(() => v2([`want ${A}`, 'filter blob:none', 'filter blob:none'])).toThrow(/more than one filter/);
    await expect(v0([`want ${A} filter`, 'filter blob:none', 'filter blob:none', '0000', 'done'])).rejects.toThrow(/more than one filter/);
    expect(() => v2([`want ${A}`, 'frobnicate'])).toThrow(/unexpected argument/);
    await expect(v0([`want ${A}`, 'frobnicate 1', '0000', 'done'])).rejects.toThrow(/unexpected line/);
  });

  it('v2 flags are whole lines: trailing text is refused, as C git does', () => {
    expect(() => v2([`want ${A}`, 'done x'])).toThrow(/unexpected argument/);
    expect(() => v2([`want ${A}`, 'thin-pack yes'])).toThrow(/unexpected argument/);
    expect(() => v2([`want ${A}`, 'deepen-not'])).toThrow(/unexpected argument/);
  });

  it('v0 reads the want section in any order, as C git does', async () => {
    const r = (await v0(['deepen 1', `shallow ${C}`, `want ${A} ofs-delta`, '0000', 'done']))!;
    expect(r.request).toMatchObject({ wants: [A], depth: 1, clientShallows: [C], ofsDelta: true });
  });

  it('v0 filter needs the filter capability; v2 needs none', async () => {
    await expect(v0([`want ${A}`, 'filter blob:none', '0000', 'done'])).rejects.toThrow(/filter capability/);
    expect(v2([`want ${A}`, 'filter blob:none']).request.filter).toEqual({ kind: 'blob:none' });
  });

  it('no want: an empty request in both (C git answers nothing)', async () => {
    expect(v2(['done']).request.wants).toEqual([]);
    expect(v2([`have ${A}`]).request.wants).toEqual([]);
    expect(await v0([`shallow ${A}`, '0000', 'done'])).toBeNull();
    expect(await v0([])).toBeNull();
  });

  it('applies the same limits', async () => {
    await refusedByBoth({ wants: [A, B], limits: { maxWants: 1 } }, /more than 1 wants/);
    await refusedByBoth({ section: [`shallow ${A}`, `shallow ${B}`], limits: { maxShallows: 1 } }, /more than 1 shallow/);
    await refusedByBoth({ section: ['deepen-not a', 'deepen-not b'], limits: { maxPrefixes: 1 } }, /more than 1 deepen-not/);
    await expect(both({ haves: [A, B], limits: { maxHaves: 1 } })).rejects.toThrow(/more than 1 haves/);
    await expect(v0([`want ${A}`, '0000', `have ${A}`, `have ${B}`, 'done'], { maxHaves: 1 })).rejects.toThrow(/more than 1 haves/);
    await refusedByBoth({ section: ['deepen 11'], limits: { maxDepth: 10 } }, /exceeds 10/);
  });

  it('v0: haves after the want section, rounds end with a flush, done or the end of the body', async () => {
    const round = (await v0([`want ${A} multi_ack_detailed`, '0000', `have ${B}`, '0000']))!;
    expect(round).toMatchObject({ done: false, wantsOnly: false });
    expect(round.request.haves).toEqual([B]);
    const deepenOnly = (await v0([`want ${A}`, 'deepen 1', '0000']))!;
    expect(deepenOnly).toMatchObject({ done: false, wantsOnly: true, deepen: true });
    await expect(v0([`want ${A}`, '0000', 'deepen 1', 'done'])).rejects.toThrow(/expected have or done/);
    await expect(v0([`want ${A}`])).rejects.toThrow(/before the flush/);
    const nul = (await v0([`want ${A}\0ofs-delta side-band-64k`, '0000', 'done']))!;
    expect(nul.request.ofsDelta).toBe(true);
    expect(nul.capabilities.has('side-band-64k')).toBe(true);
  });
});
