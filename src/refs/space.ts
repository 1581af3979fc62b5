/**
 * The two ref spaces of a repository and the two ways of reading them. A repository keeps its
 * regular refs and an ephemeral space beside them (agent scratch branches that expire); both
 * share the repository's objects.
 *
 * - A `Space` names one space exactly: listings, ref reads and writes touch that space only.
 * - A `View` is what a read resolves names through: `'regular'` sees the regular refs, and
 *   `'ephemeral'` sees the ephemeral refs over the regular ones (the merged view an ephemeral
 *   remote serves).
 */

/** One ref space, exactly: listings and writes touch only it. */
export type Space = 'regular' | 'ephemeral';

/** How reads resolve ref names: regular refs only, or ephemeral refs over regular ones. */
export type View = 'regular' | 'ephemeral';

/** The ref spaces a view reads, in lookup order. */
export function spacesOf(view: View): readonly Space[] {
  return view === 'ephemeral' ? EPHEMERAL_VIEW : REGULAR_VIEW;
}

const EPHEMERAL_VIEW: readonly Space[] = ['ephemeral', 'regular'];
const REGULAR_VIEW: readonly Space[] = ['regular'];
