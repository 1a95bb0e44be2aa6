// The trash on SQLite (see trash-contract.ts).
import { describeTrash } from "./trash-contract.js";

describeTrash("sqlite", async () => ({}));
