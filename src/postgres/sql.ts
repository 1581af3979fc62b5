/**
 * The SQL of the PostgreSQL level: one table `(k bytea PRIMARY KEY, v bytea NOT NULL)`, whose
 * btree orders keys bytewise (PostgreSQL compares bytea with memcmp, the shorter first on a
 * tie: exactly abstract-level's order). Range options become `WHERE` terms over `k` with
 * positional parameters; iterators page with keyset pagination (`k > $last ORDER BY k LIMIT n`).
 */

/** The key range of an abstract-level call (already encoded to Buffers). */
export interface KeyRange {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
}

/** A keyset position: iteration continues after (or, `inclusive`, at) `key`. */
export interface Position {
  key: Buffer;
  inclusive: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The quoted name of a table, `schema.table` or `table`; throws on anything but plain identifiers. */
export function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new TypeError(`table must be an identifier or schema.identifier of letters, digits and "_", got ${JSON.stringify(name)}`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/** `WHERE` terms (joined with AND, or `TRUE`) for a range and an optional keyset position. */
export function whereOf(range: KeyRange, reverse: boolean, params: unknown[], at?: Position): string {
  const terms: string[] = [];
  const add = (op: string, key: Buffer) => {
    params.push(key);
    terms.push(`k ${op} $${params.length}`);
  };
  // As in every abstract-level database, gte wins over gt and lte over lt.
  if (range.gte != null) add('>=', range.gte);
  else if (range.gt != null) add('>', range.gt);
  if (range.lte != null) add('<=', range.lte);
  else if (range.lt != null) add('<', range.lt);
  if (at !== undefined) add(reverse ? (at.inclusive ? '<=' : '<') : at.inclusive ? '>=' : '>', at.key);
  return terms.length === 0 ? 'TRUE' : terms.join(' AND ');
}

/** A value column as selected: base64 text, a third larger than the bytes where hex is twice. */
const WIRE_V = "encode(v, 'base64') AS v";

/** A value as selected (`encode(v, 'base64')`, line breaks included) back to its bytes. */
export function fromWire(v: string): Buffer {
  return Buffer.from(v, 'base64');
}

/** Statements of one table. */
export function statements(table: string) {
  const t = quoteTable(table);
  return {
    table: t,
    create: `CREATE TABLE IF NOT EXISTS ${t} (k bytea PRIMARY KEY, v bytea NOT NULL)`,
    // Values are mostly zlib streams already: spare PostgreSQL's TOAST from trying to compress them.
    storage: `ALTER TABLE ${t} ALTER COLUMN v SET STORAGE EXTERNAL`,
    // Values travel base64-encoded (`fromWire` decodes them): node-postgres reads every column as
    // text, where bytea's own form is hex, twice the bytes (binary results are not supported by it).
    get: `SELECT ${WIRE_V} FROM ${t} WHERE k = $1`,
    has: `SELECT 1 FROM ${t} WHERE k = $1`,
    // One round trip for many keys; ordinality maps rows back to the caller's positions (duplicates too).
    getMany: `SELECT q.i::int4 AS i, ${WIRE_V.replace('(v', '(t.v')} FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`,
    hasMany: `SELECT q.i::int4 AS i FROM unnest($1::bytea[]) WITH ORDINALITY AS q(k, i) JOIN ${t} t ON t.k = q.k`,
    put: `INSERT INTO ${t} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`,
    del: `DELETE FROM ${t} WHERE k = $1`,
    delMany: `DELETE FROM ${t} WHERE k = ANY($1::bytea[])`,
  };
}

/** The statements of `statements(table)`. */
export type Statements = ReturnType<typeof statements>;

/**
 * One statement that applies a batch whose keys are distinct: deletes by key array and an
 * upsert of `(k, v)` rows, each value its own binary parameter. One statement is one implicit
 * transaction and one round trip. Data-modifying CTEs share a snapshot, which is safe because
 * no key is both deleted and put.
 */
export function batchStatement(s: Statements, dels: Buffer[], puts: [Buffer, Buffer][]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  let text = '';
  if (dels.length > 0) {
    values.push(dels);
    text = puts.length > 0 ? `WITH d AS (DELETE FROM ${s.table} WHERE k = ANY($1::bytea[])) ` : s.delMany;
  }
  if (puts.length > 0) {
    const rows: string[] = [];
    for (const [k, v] of puts) {
      values.push(k, v);
      rows.push(`($${values.length - 1}::bytea, $${values.length}::bytea)`);
    }
    text += `INSERT INTO ${s.table} (k, v) VALUES ${rows.join(', ')} ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`;
  }
  return { text, values };
}

/** A page of keys (and values) in the range, after the position, in order. */
export function pageStatement(
  s: Statements,
  range: KeyRange,
  reverse: boolean,
  values: boolean,
  limit: number,
  at?: Position,
): { text: string; values: unknown[] } {
  const params: unknown[] = [];
  const where = whereOf(range, reverse, params, at);
  return {
    text: `SELECT k${values ? `, ${WIRE_V}` : ''} FROM ${s.table} WHERE ${where} ORDER BY k ${reverse ? 'DESC' : 'ASC'} LIMIT ${limit}`,
    values: params,
  };
}

/** Deletes the range, or its first `limit` keys in iteration order. */
export function clearStatement(s: Statements, range: KeyRange, reverse: boolean, limit: number): { text: string; values: unknown[] } {
  const params: unknown[] = [];
  const where = whereOf(range, reverse, params);
  if (limit < 0) return { text: `DELETE FROM ${s.table} WHERE ${where}`, values: params };
  return {
    text: `DELETE FROM ${s.table} WHERE k IN (SELECT k FROM ${s.table} WHERE ${where} ORDER BY k ${reverse ? 'DESC' : 'ASC'} LIMIT ${limit})`,
    values: params,
  };
}
