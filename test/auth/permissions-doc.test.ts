// docs/permissions.md must show exactly the matrix the code enforces.
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { parseRole, permissionTableMarkdown, projectOf } from "../../src/auth/permissions.js";

it("docs/permissions.md embeds the enforced role × action table", async () => {
  const doc = await readFile(new URL("../../docs/permissions.md", import.meta.url), "utf8");
  expect(doc).toContain(permissionTableMarkdown());
});

it("parses the CLI role spellings and maps repositories to projects", () => {
  expect(parseRole("admin")).toBe("projectAdmin");
  expect(parseRole("limited-guest")).toBe("limitedGuest");
  expect(parseRole("owner")).toBeUndefined();
  expect(parseRole("constructor")).toBeUndefined();
  expect(projectOf("team/app/web")).toBe("team");
  expect(projectOf("alpine")).toBe("library");
});
