/**
 * What the shared SQL code needs from a database: transactions, statements with `?` placeholders,
 * and the few places where SQLite and PostgreSQL differ (the Dialect).
 */
export type SqlValue = number | string | null | Uint8Array | readonly number[];
export type Row = Record<string, unknown>;

export interface Tx {
  /** Rows of a query (also of INSERT/UPDATE/DELETE … RETURNING). */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** A statement without result rows; returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** A subquery yielding one column `value` per element of an integer-array parameter (one `?`). */
  readonly intValues: string;
  /** The parameter for intValues. */
  intArray(values: readonly number[]): SqlValue;
  /** Row lock suffix for SELECT inside a write transaction ('' where the transaction is exclusive). */
  readonly forUpdate: string;
  /** Row lock suffix that skips rows locked by others (queue claims). */
  readonly skipLocked: string;
  /** Statements run first in the migration transaction (PostgreSQL: the advisory lock). */
  migrationPrelude(): Array<{ sql: string; params: SqlValue[] }>;
  /** Classifies a driver error. */
  constraint(error: unknown): 'unique' | 'foreign' | null;
}

export interface Engine {
  readonly dialect: Dialect;
  /**
   * A read-write transaction; committed (and on disk) when the promise resolves. The function may
   * run again after a serialization failure or deadlock, so it must not have outside effects.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A read-only transaction (one consistent snapshot). */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
