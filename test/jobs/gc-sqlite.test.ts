// Online GC and its races on SQLite (see gc-races.ts).
import { describeGcRaces } from "./gc-races.js";

describeGcRaces("sqlite", async () => ({}));
