// A real Go binary for the Go cataloger: a tiny program in module `example.com/berthapp`
// that imports `example.com/berthlib` v1.4.2 (supplied through a local `replace`, so the
// build needs no network) and `example.com/oldlib` replaced by `example.com/newlib`
// v1.5.0 from another local directory. Built with Debian's `go` (golang-go),
// cached under test/.work/scan-go/.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WORK_DIR } from "../../../support/debian-image.js";
import { withFileLock } from "../../../support/file-lock.js";
import { runOk } from "../../../support/process-control.js";
import { ensureTools, type RequiredTool } from "../../../support/tools.js";

/** Installed by scripts/install-test-deps.sh when missing; the build fails loudly without. */
const TOOLS: RequiredTool[] = [
  { command: "go", debianPackage: "golang-go", usedFor: "a real Go binary for the Go cataloger" },
];

const CACHE = join(WORK_DIR, "scan-go");

export interface GoFixture {
  binary: Buffer;
  /** `go version` of the toolchain that built it, e.g. `go1.19.8`. */
  goVersion: string;
}

export async function goFixture(): Promise<GoFixture> {
  const ready = join(CACHE, "ready.json");
  if (!existsSync(ready)) {
    await mkdir(WORK_DIR, { recursive: true });
    await withFileLock(`${CACHE}.lock`, async () => {
      if (!existsSync(ready)) await build();
    });
  }
  const meta = JSON.parse(await readFile(ready, "utf8")) as { goVersion: string };
  return { binary: await readFile(join(CACHE, "berthapp")), goVersion: meta.goVersion };
}

async function build(): Promise<void> {
  await ensureTools(TOOLS);
  await rm(CACHE, { recursive: true, force: true });
  const src = join(CACHE, "src");
  const files: Record<string, string> = {
    "app/go.mod": [
      "module example.com/berthapp",
      "go 1.19",
      "require (",
      "\texample.com/berthlib v1.4.2",
      "\texample.com/oldlib v1.0.0",
      ")",
      "replace example.com/berthlib v1.4.2 => ../berthlib",
      "replace example.com/oldlib => example.com/newlib v1.5.0",
      "",
    ].join("\n"),
    "app/main.go":
      'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/berthlib"\n\t"example.com/oldlib"\n)\n\nfunc main() { fmt.Println(berthlib.Name(), oldlib.Name()) }\n',
    "berthlib/go.mod": "module example.com/berthlib\n\ngo 1.19\n",
    "berthlib/lib.go": 'package berthlib\n\nfunc Name() string { return "berthlib" }\n',
    "modcache/cache/download/example.com/newlib/@v/list": "v1.5.0\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(src, path, ".."), { recursive: true });
    await writeFile(join(src, path), content);
  }
  await writeNewlibModule(src);
  const env = {
    ...process.env,
    GOPATH: join(src, "gopath"),
    GOMODCACHE: join(src, "modcache"),
    GOCACHE: join(CACHE, "gocache"),
    GOFLAGS: "-mod=mod",
    GOENV: "off",
    GOPROXY: `file://${join(src, "modcache", "cache", "download")}`,
    GONOSUMDB: "*",
    GOSUMDB: "off",
    CGO_ENABLED: "0",
    GOTOOLCHAIN: "local",
  };
  const app = join(src, "app");
  const go = (args: string[]) => runOk("go", args, { cwd: app, env, timeoutMs: 600_000 });
  await go(["mod", "tidy"]);
  await go(["build", "-trimpath", "-buildvcs=false", "-o", join(CACHE, "berthapp"), "."]);
  const goVersion = (await go(["env", "GOVERSION"])).stdout.trim();
  await writeFile(join(CACHE, "ready.json"), JSON.stringify({ goVersion }));
}

/** A GOPROXY-layout module `example.com/newlib` at v1.5.0 (package oldlib). */
async function writeNewlibModule(src: string): Promise<void> {
  const { zipSync, strToU8 } = await import("fflate");
  const dir = join(src, "modcache", "cache", "download", "example.com", "newlib", "@v");
  const version = "v1.5.0";
  const mod = "module example.com/newlib\n";
  const prefix = `example.com/newlib@${version}/`;
  const zip = zipSync({
    [`${prefix}go.mod`]: strToU8(mod),
    [`${prefix}lib.go`]: strToU8('package oldlib\n\nfunc Name() string { return "newlib" }\n'),
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${version}.mod`), mod);
  await writeFile(join(dir, `${version}.zip`), zip);
  await writeFile(
    join(dir, `${version}.info`),
    JSON.stringify({ Version: version, Time: "2024-01-01T00:00:00Z" }),
  );
}
