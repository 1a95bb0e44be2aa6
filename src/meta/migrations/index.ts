// Every migration, in order. Each is a module `NNNN-name.ts` exporting `up` (and `down`);
// the key is its permanent name in the migrations table. To add one: create the next
// NNNN file and append one line here. Never reorder or rename shipped entries.
import type { Migration } from "kysely";
import * as m0001 from "./0001-registry.js";
import * as m0002 from "./0002-auth.js";
import * as m0003 from "./0003-credential-revocation.js";
import * as m0004 from "./0004-jobs.js";
import * as m0005 from "./0005-policies.js";
import * as m0007 from "./0007-trust.js";
import * as m0008 from "./0008-gate-policies.js";
import * as m0010 from "./0010-scanning.js";
import * as m0011 from "./0011-webhooks.js";
import * as m0013 from "./0013-gate-results.js";
import * as m0014 from "./0014-trash.js";
import * as m0015 from "./0015-registry-endpoints.js";
import * as m0016 from "./0016-replication.js";
import * as m0017 from "./0017-token-signing-keys.js";
import * as m0019 from "./0019-user-disabled.js";

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ["0001-registry", m0001],
  ["0002-auth", m0002],
  ["0003-credential-revocation", m0003],
  ["0004-jobs", m0004],
  ["0005-policies", m0005],
  ["0007-trust", m0007],
  ["0008-gate-policies", m0008],
  ["0010-scanning", m0010],
  ["0011-webhooks", m0011],
  ["0013-gate-results", m0013],
  ["0014-trash", m0014],
  ["0015-registry-endpoints", m0015],
  ["0016-replication", m0016],
  ["0017-token-signing-keys", m0017],
  ["0019-user-disabled", m0019],
];
