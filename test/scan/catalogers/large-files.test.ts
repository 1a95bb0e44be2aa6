// Executables larger than the catalogers hold in memory (64 MiB) are streamed: Go build info
// is still found, in an image layer and in a directory, and nothing else is buffered.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogFilesystem, catalogImage } from "../../../src/scan/catalogers/index.js";
import type { Package } from "../../../src/scan/package.js";
import { goFixture } from "./support/go-fixture.js";
import { type BuiltImage, buildImage } from "./support/image-builder.js";

const SIZE = 65 * 1024 * 1024;
let big: Buffer;
let image: BuiltImage;
let dir: string;

const line = (p: Package) => `${p.name}@${p.version} ${p.locations[0]}`;
let EXPECTED: string[];

beforeAll(async () => {
  const { binary, goVersion } = await goFixture();
  EXPECTED = [
    "example.com/berthlib@v1.4.2 /usr/bin/huge",
    "example.com/newlib@v1.5.0 /usr/bin/huge",
    `stdlib@v${goVersion.slice(2)} /usr/bin/huge`,
  ];
  // Padding after the end of the file leaves a valid ELF with the same build info.
  big = Buffer.concat([binary, Buffer.alloc(SIZE - binary.length)]);
  image = await buildImage([
    {
      createdBy: "COPY huge /usr/bin/huge",
      entries: [{ path: "usr/bin/huge", content: big, mode: 0o755 }],
    },
  ]);
  dir = await mkdtemp(join(tmpdir(), "berth-catalog-large-"));
  await mkdir(join(dir, "usr/bin"), { recursive: true });
  await writeFile(join(dir, "usr/bin/huge"), big, { mode: 0o755 });
}, 300_000);

afterAll(async () => {
  await image?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("large executables", () => {
  it("are streamed from a layer", async () => {
    const source = await image.open();
    const result = await catalogImage(source);
    await source.close();
    expect(result.packages.map(line)).toEqual(EXPECTED);
    expect(result.warnings).toEqual([]);
  });

  it("are streamed from a directory", async () => {
    const result = await catalogFilesystem(dir);
    expect(result.packages.map(line)).toEqual(EXPECTED);
  });
});
