// Hot queries compiled once. Kysely otherwise rebuilds and recompiles a query's syntax tree
// on every call, which costs more than running it on SQLite; manifest GET, tag resolution
// and blob HEAD run on every pull. A PreparedQuery builds its query once per database
// (with sentinel values standing in for the parameters), keeps the dialect's SQL text, and
// then only binds values; the driver's statement cache reuses the prepared statement.
// Portable: the SQL comes from Kysely's compiler for whichever dialect the database uses.
import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import type { Database } from "./database.js";

export class PreparedQuery<Row, Params extends Record<string, unknown>> {
  private readonly compiled = new WeakMap<Kysely<Database>, CompiledQuery<Row>>();

  /**
   * `build` receives sentinel strings (`":name"`) for each parameter; they must be used
   * only as values (never as identifiers).
   */
  constructor(
    private readonly names: readonly (keyof Params & string)[],
    private readonly build: (
      db: Kysely<Database>,
      p: Record<keyof Params, string>,
    ) => Compilable<Row>,
  ) {}

  async all(db: Kysely<Database>, params: Params): Promise<Row[]> {
    let compiled = this.compiled.get(db);
    if (!compiled) {
      const sentinels = Object.fromEntries(this.names.map((n) => [n, `\u0000:${n}`])) as Record<
        keyof Params,
        string
      >;
      compiled = this.build(db, sentinels).compile();
      this.compiled.set(db, compiled);
    }
    const values = compiled.parameters.map((p) => {
      if (typeof p === "string" && p.startsWith("\u0000:")) return params[p.slice(2)];
      return p;
    });
    const result = await db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, values));
    return result.rows;
  }

  async first(db: Kysely<Database>, params: Params): Promise<Row | undefined> {
    return (await this.all(db, params))[0];
  }
}
