// Every migration, in order. Each is a module `NNNN-name.ts` exporting `up` (and `down`);
// the key is its permanent name in the migrations table. To add one: create the next
// NNNN file and append one line here. Never reorder or rename shipped entries.
import type { Migration } from "kysely";
import * as m0001 from "./0001-registry.js";
import * as m0002 from "./0002-auth.js";
import * as m0008 from "./0008-gate-policies.js";

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ["0001-registry", m0001],
  ["0002-auth", m0002],
  ["0008-gate-policies", m0008],
];
