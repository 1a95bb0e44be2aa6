// fsck on SQLite (see fsck-contract.ts).
import { describeFsck } from "./fsck-contract.js";

describeFsck("sqlite", async () => ({}));
