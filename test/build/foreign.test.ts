// RUN for a foreign platform: a linux/arm64 stage whose RUN executes an arm64 binary (a static
// C program cross-compiled in the test with Debian's gcc-aarch64-linux-gnu) on this host
// through qemu-user-static, registered in binfmt_misc by the builder where the host had no
// entry yet. The program records the machine it believes it runs on, so the layer proves
// the step ran as arm64.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthOk } from "../cli/berth-cli.js";
import { findExecutable } from "../support/tools.js";
import { imageFiles } from "./image-files.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

const PROGRAM = `#include <stdio.h>
#include <sys/utsname.h>
int main(void) {
  struct utsname u;
  uname(&u);
  FILE *f = fopen("/machine.txt", "w");
  if (!f) return 1;
  fprintf(f, "%s\\n", u.machine);
  fclose(f);
  printf("ran on %s\\n", u.machine);
  return 0;
}
`;

describe("berth build RUN for linux/arm64", { timeout: 120_000 }, () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-foreign-"));
    const gcc = findExecutable("aarch64-linux-gnu-gcc");
    if (!gcc) {
      throw new Error(
        "aarch64-linux-gnu-gcc is missing: install gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (scripts/install-test-deps.sh)",
      );
    }
    await writeFile(join(work, "machine.c"), PROGRAM);
    execFileSync(gcc, ["-static", "-O1", "-o", join(work, "machine"), join(work, "machine.c")]);
    await writeFile(
      join(work, "Dockerfile"),
      'FROM scratch\nCOPY machine /machine\nRUN ["/machine"]\nCMD ["/machine"]\n',
    );
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("runs the stage's arm64 binary through qemu and records its output in the layer", async () => {
    const out = join(work, "out");
    const result = await berthOk(
      [
        "build",
        "--cache-dir",
        join(work, "cache"),
        "--platform",
        "linux/arm64",
        "--progress",
        "plain",
        "--output",
        `oci:${out}:1`,
        work,
      ],
      { env: { SOURCE_DATE_EPOCH: "1700000000" } },
    );
    expect(result.stderr).toContain("ran on aarch64");
    const image = await imageFiles(`oci:${out}:1`);
    expect(image.config.architecture).toBe("arm64");
    expect(image.files.get("machine.txt")?.content).toBe(sha("aarch64\n"));
  });
});
