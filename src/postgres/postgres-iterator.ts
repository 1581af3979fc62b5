/**
 * Iterators of the PostgreSQL level. They hold no connection and no server-side cursor: each
 * page is one query with keyset pagination (`WHERE k > $last ORDER BY k LIMIT n`), so an
 * iterator left open costs nothing on the server and the table is never read whole. Pages
 * start small (a `next()` or two is the common case) and grow to `pageSize`.
 *
 * Consistency: every page sees the database as of its own query (no snapshot across pages):
 * a key is never returned twice, keys written behind the position are not seen, keys written
 * ahead of it are, deleted keys ahead of it are not (manifest: `implicitSnapshots: false`).
 */
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level';
import { fromWire, pageStatement, type KeyRange, type Position, type Statements } from './sql.js';

/** What an iterator needs from its database. */
export interface PageSource {
  statements: Statements;
  pageSize: number;
  /** Rows of a page: keys as bytes, values as selected (base64, see sql.ts `fromWire`). */
  query(text: string, values: unknown[]): Promise<{ rows: { k: Buffer; v?: string }[] }>;
}

/** The options abstract-level gives `_iterator`, `_keys` and `_values` (encoded). */
export interface ReadOptions extends KeyRange {
  reverse: boolean;
  limit: number;
  keys?: boolean;
  values?: boolean;
}

const FIRST_PAGE = 16;

/** Keyset pagination over a range: the part the three iterator kinds share. */
class Pages {
  readonly #src: PageSource;
  readonly #range: KeyRange;
  readonly #reverse: boolean;
  readonly #values: boolean;
  #at: Position | undefined;
  #buffer: { k: Buffer; v?: Buffer }[] = [];
  #next = 0;
  #done = false;
  #pageSize = FIRST_PAGE;

  constructor(src: PageSource, options: ReadOptions, values: boolean) {
    this.#src = src;
    this.#range = { gt: options.gt, gte: options.gte, lt: options.lt, lte: options.lte };
    this.#reverse = options.reverse;
    this.#values = values;
  }

  /** Up to `max` rows (fewer at a page boundary; none at the end); `left` is what the limit still allows. */
  async take(max: number, left: number): Promise<{ k: Buffer; v?: Buffer }[]> {
    if (this.#next >= this.#buffer.length) {
      if (this.#done) return [];
      await this.#fetch(Math.min(Math.max(max, this.#pageSize), left, this.#src.pageSize));
      this.#pageSize = Math.min(this.#pageSize * 4, this.#src.pageSize);
    }
    const out = this.#buffer.slice(this.#next, this.#next + max);
    this.#next += out.length;
    return out;
  }

  async #fetch(n: number): Promise<void> {
    const q = pageStatement(this.#src.statements, this.#range, this.#reverse, this.#values, n, this.#at);
    const { rows } = await this.#src.query(q.text, q.values);
    this.#buffer = this.#values ? rows.map((r) => ({ k: r.k, v: fromWire(r.v!) })) : rows.map((r) => ({ k: r.k }));
    this.#next = 0;
    if (rows.length < n) this.#done = true;
    if (rows.length > 0) this.#at = { key: rows[rows.length - 1].k, inclusive: false };
  }

  /** Moves to the first key at or after `target` (at or before, in reverse), within the range. */
  seek(target: Buffer): void {
    this.#buffer = [];
    this.#next = 0;
    this.#done = false;
    this.#pageSize = FIRST_PAGE;
    this.#at = { key: target, inclusive: true };
  }
}

const remaining = (it: { limit: number; count: number }) => (it.limit === Infinity ? Infinity : it.limit - it.count);

/** Entries `[key, value]` (either may be left out with `keys: false` / `values: false`). */
// biome-ignore lint/suspicious/noExplicitAny: the iterator serves a database of any key/value encodings (abstract-level transcodes).
export class PostgresIterator extends AbstractIterator<any, Buffer, Buffer> {
  readonly #pages: Pages;
  readonly #keys: boolean;
  readonly #values: boolean;

  constructor(db: PageSource, options: ReadOptions) {
    super(db, options as never);
    this.#keys = options.keys !== false;
    this.#values = options.values !== false;
    this.#pages = new Pages(db, options, this.#values);
  }

  #entry(r: { k: Buffer; v?: Buffer }): [Buffer, Buffer] {
    return [this.#keys ? r.k : undefined, this.#values ? r.v : undefined] as [Buffer, Buffer];
  }

  async _next(): Promise<[Buffer, Buffer] | undefined> {
    const [r] = await this.#pages.take(1, remaining(this));
    return r === undefined ? undefined : this.#entry(r);
  }

  async _nextv(size: number): Promise<[Buffer, Buffer][]> {
    return (await this.#pages.take(size, remaining(this))).map((r) => this.#entry(r));
  }

  async _all(): Promise<[Buffer, Buffer][]> {
    const out: [Buffer, Buffer][] = [];
    for (let left = remaining(this); left > 0; ) {
      const rows = await this.#pages.take(Infinity, left);
      if (rows.length === 0) break;
      for (const r of rows) out.push(this.#entry(r));
      left -= rows.length;
    }
    return out;
  }

  _seek(target: Buffer): void {
    this.#pages.seek(target);
  }
}

/** Keys only (pages fetch no values). */
// biome-ignore lint/suspicious/noExplicitAny: the iterator serves a database of any key/value encodings (abstract-level transcodes).
export class PostgresKeyIterator extends AbstractKeyIterator<any, Buffer> {
  readonly #pages: Pages;

  constructor(db: PageSource, options: ReadOptions) {
    super(db, options as never);
    this.#pages = new Pages(db, options, false);
  }

  async _next(): Promise<Buffer | undefined> {
    return (await this.#pages.take(1, remaining(this)))[0]?.k;
  }

  async _nextv(size: number): Promise<Buffer[]> {
    return (await this.#pages.take(size, remaining(this))).map((r) => r.k);
  }

  async _all(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let left = remaining(this); left > 0; ) {
      const rows = await this.#pages.take(Infinity, left);
      if (rows.length === 0) break;
      for (const r of rows) out.push(r.k);
      left -= rows.length;
    }
    return out;
  }

  _seek(target: Buffer): void {
    this.#pages.seek(target);
  }
}

/** Values only. */
// biome-ignore lint/suspicious/noExplicitAny: the iterator serves a database of any key/value encodings (abstract-level transcodes).
export class PostgresValueIterator extends AbstractValueIterator<any, Buffer, Buffer> {
  readonly #pages: Pages;

  constructor(db: PageSource, options: ReadOptions) {
    super(db, options as never);
    this.#pages = new Pages(db, options, true);
  }

  async _next(): Promise<Buffer | undefined> {
    return (await this.#pages.take(1, remaining(this)))[0]?.v;
  }

  async _nextv(size: number): Promise<Buffer[]> {
    return (await this.#pages.take(size, remaining(this))).map((r) => r.v as Buffer);
  }

  async _all(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let left = remaining(this); left > 0; ) {
      const rows = await this.#pages.take(Infinity, left);
      if (rows.length === 0) break;
      for (const r of rows) out.push(r.v as Buffer);
      left -= rows.length;
    }
    return out;
  }

  _seek(target: Buffer): void {
    this.#pages.seek(target);
  }
}
