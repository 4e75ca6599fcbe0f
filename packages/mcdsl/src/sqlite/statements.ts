// Prepared statements kept by their SQL, one per database. better-sqlite3 compiles a statement on
// each prepare() and frees it only when the JavaScript object is collected: preparing per call
// costs the compile each time and leaves malloc'd programs behind (2,000 calls grew the C heap by
// 14 MB that stayed after collection). A store takes its statements from here instead.
// A cached statement is shared: never switch its mode (raw, pluck, expand, safeIntegers) or
// iterate it; prepare those on the database itself.
import type { Database, Statement } from "better-sqlite3";

export type StatementCache = <P extends unknown[] | object = unknown[], R = unknown>(
  sql: string,
) => Statement<P, R>;

/** Returns `sql(text)`: the database's statement for `text`, prepared on first use. */
export function statementCache(db: Database): StatementCache {
  const statements = new Map<string, Statement>();
  return <P extends unknown[] | object = unknown[], R = unknown>(sql: string): Statement<P, R> => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement as unknown as Statement<P, R>;
  };
}
