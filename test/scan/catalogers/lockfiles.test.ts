// The source-tree lock-file catalogers, on real-world files (test/fixtures/lockfiles, see its
// README for where each came from) and on the edge cases each format has: requirements.txt
// pins, Pipfile.lock/poetry dev sections, go.mod replace directives and the go.sum merge below
// Go 1.17, yarn v1 aliases and berry workspaces, pnpm v5/v6/v9 keys, pom.xml properties.
// Malformed files give a warning naming the file while the walk goes on; image scans leave
// source-tree lock files alone.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNugetLock } from "../../../src/scan/catalogers/dotnet.js";
import type { LibraryDraft } from "../../../src/scan/catalogers/draft.js";
import { catalogFilesystem } from "../../../src/scan/catalogers/filesystem.js";
import { parseGoMod, parseGoSum } from "../../../src/scan/catalogers/go-mod.js";
import { parsePom } from "../../../src/scan/catalogers/maven-pom.js";
import { parseNpmLockfile } from "../../../src/scan/catalogers/npm.js";
import { parseComposerLock } from "../../../src/scan/catalogers/php.js";
import { parsePnpmLock } from "../../../src/scan/catalogers/pnpm.js";
import {
  parsePipfileLock,
  parsePoetryLock,
  parseRequirementsTxt,
  parseUvLock,
} from "../../../src/scan/catalogers/python-lock.js";
import { interestIn } from "../../../src/scan/catalogers/registry.js";
import { parseGemfileLock } from "../../../src/scan/catalogers/ruby-lock.js";
import { parseCargoLock } from "../../../src/scan/catalogers/rust.js";
import { parseYarnLock } from "../../../src/scan/catalogers/yarn.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/lockfiles");
const fixture = (path: string) => readFile(join(FIXTURES, path), "utf8");
const ids = (drafts: LibraryDraft[]) => drafts.map((d) => `${d.pkg.name}@${d.pkg.version}`);

describe("Python lock files", () => {
  it("requirements.txt: pinned == only, extras, markers, hashes, comments; -r and ranges ignored", async () => {
    const drafts = parseRequirementsTxt(
      await fixture("requirements/requirements.txt"),
      "/requirements.txt",
    );
    expect(ids(drafts)).toEqual([
      "certifi@2023.5.7",
      "charset-normalizer@3.1.0",
      "idna@3.4",
      "requests@2.30.0",
      "urllib3@2.0.2",
      "Django@3.2.19",
    ]);
    expect(drafts[3]?.pkg).toMatchObject({
      ecosystem: "PyPI",
      type: "library",
      purl: "pkg:pypi/requests@2.30.0",
    });
    expect(drafts[5]?.pkg.purl).toBe("pkg:pypi/django@3.2.19");
    expect(drafts.every((d) => d.location === "/requirements.txt")).toBe(true);
  });

  it("requirements.txt: a continuation line joins, a URL fragment is not a comment", () => {
    const text = "Flask==2.0.1 \\\n  --hash=sha256:aa\nfoo @ https://x/foo.whl#sha256=1\n\n";
    expect(ids(parseRequirementsTxt(text, "/r.txt"))).toEqual(["Flask@2.0.1"]);
  });

  it("Pipfile.lock: the default section, not develop", async () => {
    const drafts = parsePipfileLock(await fixture("pipenv/Pipfile.lock"), "/Pipfile.lock");
    expect(ids(drafts)).toEqual(["azure-functions@1.0.8"]);
    expect(drafts[0]?.pkg.purl).toBe("pkg:pypi/azure-functions@1.0.8");
  });

  it("poetry.lock: every [[package]]", async () => {
    const drafts = parsePoetryLock(await fixture("poetry/poetry.lock"), "/poetry.lock");
    expect(ids(drafts)).toEqual([
      "cfgv@3.4.0",
      "click@8.1.7",
      "colorama@0.4.6",
      "distlib@0.3.8",
      "isodate@0.6.1",
      "jinja2@3.1.4",
      "six@1.16.0",
      "virtualenv@20.26.3",
    ]);
  });

  it("poetry.lock: Poetry < 1.2 dev category and local directories are left out", () => {
    const text =
      '[[package]]\nname = "pytest"\nversion = "7.0.0"\ncategory = "dev"\n\n[[package]]\nname = "Requests"\nversion = "2.28.0"\ncategory = "main"\n\n[[package]]\nname = "mylib"\nversion = "0.1.0"\n[package.source]\ntype = "directory"\nurl = "../mylib"\n';
    const drafts = parsePoetryLock(text, "/poetry.lock");
    expect(ids(drafts)).toEqual(["Requests@2.28.0"]);
    expect(drafts[0]?.pkg.purl).toBe("pkg:pypi/requests@2.28.0");
  });

  it("uv.lock: registry packages; the editable project itself is left out", async () => {
    const drafts = parseUvLock(await fixture("uv/uv.lock"), "/uv.lock");
    expect(ids(drafts)).toEqual([
      "annotated-types@0.7.0",
      "cfgv@3.5.0",
      "colorama@0.4.6",
      "pydantic@2.12.5",
      "typing-extensions@4.15.0",
      "typing-inspection@0.4.2",
    ]);
  });
});

describe("go.mod and go.sum", () => {
  it("go.mod below 1.17 adds the go.sum modules it does not name (real module)", async () => {
    const drafts = parseGoMod(
      await fixture("gomod/go.mod"),
      "/app/go.mod",
      await fixture("gomod/go.sum"),
    );
    expect(drafts.map((d) => `${d.pkg.name}@${d.pkg.version} ${d.location}`)).toEqual([
      "github.com/gorilla/sessions@v1.2.1 /app/go.mod",
      "github.com/graphql-go/graphql@v0.7.9 /app/go.mod",
      "github.com/graphql-go/handler@v0.2.3 /app/go.mod",
      "github.com/secure-for-ai/secureai-microsvs@v0.1.2 /app/go.mod",
      "github.com/gorilla/securecookie@v1.1.1 /app/go.sum",
      "github.com/jackc/pgx/v4@v4.9.2 /app/go.sum",
      "golang.org/x/text@v0.3.3 /app/go.sum",
      "gopkg.in/yaml.v2@v2.3.0 /app/go.sum",
    ]);
    expect(drafts[0]?.pkg).toMatchObject({
      ecosystem: "Go",
      purl: "pkg:golang/github.com/gorilla/sessions@v1.2.1",
    });
  });

  it("go.mod at 1.17+ lists the whole graph: go.sum is not merged; indirect, blocks, replace", () => {
    const mod = [
      "module example.com/app",
      "",
      "go 1.21",
      "",
      "require golang.org/x/net v0.17.0",
      "",
      "require (",
      "\tgithub.com/old/name v1.0.0",
      "\tgithub.com/pinned/lib v1.2.0 // indirect",
      "\texample.com/local v0.0.0",
      "\tgolang.org/x/text v0.3.7 // indirect",
      ")",
      "",
      "replace github.com/old/name => github.com/new/name v1.1.0",
      "replace github.com/pinned/lib v1.1.0 => github.com/fork/lib v1.1.1",
      "replace (",
      "\texample.com/local => ../local",
      ")",
      "exclude golang.org/x/text v0.3.6",
    ].join("\n");
    const sum = "golang.org/x/crypto v0.14.0 h1:x=\n";
    expect(ids(parseGoMod(mod, "/go.mod", sum))).toEqual([
      "golang.org/x/net@v0.17.0",
      "github.com/new/name@v1.1.0",
      "github.com/pinned/lib@v1.2.0",
      "golang.org/x/text@v0.3.7",
    ]);
  });

  it("go.sum alone is read; beside a go.mod it is left to go.mod's cataloger", async () => {
    const sum = await fixture("gomod/go.sum");
    expect(ids(parseGoSum(sum, "/go.sum"))).toContain("golang.org/x/text@v0.3.3");
    expect(parseGoSum(sum, "/go.sum")).toHaveLength(8);
    expect(parseGoSum(sum, "/go.sum", "module x\n")).toEqual([]);
  });

  it("fs: of a single go.sum or go.mod reads that file alone", async () => {
    const sum = await catalogFilesystem(join(FIXTURES, "gomod/go.sum"));
    expect(sum.packages).toHaveLength(8);
    expect(sum.packages.every((p) => p.locations[0] === "/go.sum")).toBe(true);
    const mod = await catalogFilesystem(join(FIXTURES, "gomod/go.mod"));
    expect(mod.packages.map((p) => p.name)).toEqual([
      "github.com/gorilla/sessions",
      "github.com/graphql-go/graphql",
      "github.com/graphql-go/handler",
      "github.com/secure-for-ai/secureai-microsvs",
    ]);
  });

  it("rejects a file that is not a go.mod", () => {
    expect(() => parseGoMod("{ not go }\n", "/go.mod")).toThrow(/not a go\.mod directive/);
    expect(() => parseGoMod("go 1.20\n", "/go.mod")).toThrow(/no module directive/);
  });
});

describe("Cargo.lock, Gemfile.lock, composer.lock, packages.lock.json", () => {
  it("Cargo.lock v4: crates with a source; workspace members left out", async () => {
    const drafts = parseCargoLock(await fixture("cargo/Cargo.lock"), "/Cargo.lock");
    expect(ids(drafts)).toEqual([
      "anstream@0.6.18",
      "anstyle@1.0.10",
      "clap@4.5.21",
      "proc-macro2@1.0.89",
      "scroll@0.12.0",
      "syn@2.0.87",
      "unicode-ident@1.0.13",
    ]);
    expect(drafts[2]?.pkg.purl).toBe("pkg:cargo/clap@4.5.21");
  });

  it("Gemfile.lock: every spec of the GEM section", async () => {
    const drafts = parseGemfileLock(await fixture("bundler/Gemfile.lock"), "/Gemfile.lock");
    expect(drafts).toHaveLength(42);
    expect(ids(drafts).slice(0, 3)).toEqual([
      "actionmailer@4.1.8",
      "actionpack@4.1.8",
      "actionview@4.1.8",
    ]);
    expect(ids(drafts)).toContain("rack@1.5.5");
    expect(ids(drafts)).toContain("arel@5.0.1.20140414130214");
    expect(ids(drafts)).not.toContain("bundler@1.3.0");
    expect(drafts.find((d) => d.pkg.name === "rack")?.pkg).toMatchObject({
      ecosystem: "RubyGems",
      purl: "pkg:gem/rack@1.5.5",
    });
  });

  it("Gemfile.lock: platform suffixes and GIT gems; PATH gems are the project's", () => {
    const text = [
      "GIT",
      "  remote: https://github.com/rails/rails.git",
      "  revision: abc",
      "  specs:",
      "    rails (7.1.0.alpha)",
      "",
      "PATH",
      "  remote: .",
      "  specs:",
      "    myapp (0.1.0)",
      "",
      "GEM",
      "  remote: https://rubygems.org/",
      "  specs:",
      "    nokogiri (1.15.4-x86_64-linux)",
      "      racc (~> 1.4)",
      "    racc (1.7.1)",
      "",
      "PLATFORMS",
      "  x86_64-linux",
    ].join("\n");
    expect(ids(parseGemfileLock(text, "/Gemfile.lock"))).toEqual([
      "rails@7.1.0.alpha",
      "nokogiri@1.15.4",
      "racc@1.7.1",
    ]);
  });

  it("composer.lock: packages and packages-dev", async () => {
    const drafts = parseComposerLock(await fixture("composer/composer.lock"), "/composer.lock");
    expect(ids(drafts)).toEqual([
      "doctrine/instantiator@1.1.0",
      "myclabs/deep-copy@1.8.1",
      "webmozart/assert@1.3.0",
    ]);
    expect(drafts[0]?.pkg).toMatchObject({
      ecosystem: "Packagist",
      purl: "pkg:composer/doctrine/instantiator@1.1.0",
      licenses: ["MIT"],
    });
    const withDev = JSON.stringify({
      packages: [{ name: "monolog/monolog", version: "2.9.1" }],
      "packages-dev": [{ name: "phpunit/phpunit", version: "9.6.0" }],
    });
    expect(ids(parseComposerLock(withDev, "/composer.lock"))).toEqual([
      "monolog/monolog@2.9.1",
      "phpunit/phpunit@9.6.0",
    ]);
  });

  it("packages.lock.json: every framework's packages once, Project entries left out", async () => {
    const drafts = parseNugetLock(await fixture("nuget/packages.lock.json"), "/packages.lock.json");
    expect(ids(drafts)).toEqual([
      "Avalonia@12.1.3",
      "CommunityToolkit.Mvvm@8.4.2",
      "Microsoft.DotNet.ILCompiler@10.0.12",
      "Avalonia.BuildServices@11.3.2",
      "Avalonia.Remote.Protocol@12.1.3",
      "MicroCom.Runtime@0.11.6",
      "Tmds.DBus.Protocol@0.94.1",
      "runtime.win-x64.Microsoft.DotNet.ILCompiler@10.0.12",
    ]);
    expect(drafts[0]?.pkg.purl).toBe("pkg:nuget/Avalonia@12.1.3");
    const project = JSON.stringify({
      version: 1,
      dependencies: {
        net8: { Lib: { type: "Project" }, X: { type: "Direct", resolved: "1.0.0" } },
      },
    });
    expect(ids(parseNugetLock(project, "/packages.lock.json"))).toEqual(["X@1.0.0"]);
  });
});

describe("yarn.lock and pnpm-lock.yaml", () => {
  it("yarn v1 (real file, read with @yarnpkg/lockfile)", async () => {
    const drafts = parseYarnLock(await fixture("yarn-v1/yarn.lock"), "/web/yarn.lock");
    expect(ids(drafts)).toEqual([
      "@babel/runtime-corejs3@7.17.2",
      "@babel/runtime@7.17.2",
      "@eslint/eslintrc@1.2.0",
      "@nodelib/fs.stat@2.0.5",
      "@types/node@17.0.21",
      "acorn@8.7.0",
      "ajv@6.12.6",
      "brace-expansion@1.1.11",
    ]);
    expect(drafts[1]?.pkg.purl).toBe("pkg:npm/%40babel/runtime@7.17.2");
    expect(drafts.every((d) => d.fromLockfileIn === "/web")).toBe(true);
  });

  it("yarn v1: npm: aliases name the real package; file: and link: entries are local", () => {
    const text =
      '# yarn lockfile v1\n\n\n"string-width-cjs@npm:string-width@^4.2.0":\n  version "4.2.3"\n\n"local-lib@file:./lib":\n  version "0.0.1"\n';
    expect(ids(parseYarnLock(text, "/yarn.lock"))).toEqual(["string-width@4.2.3"]);
  });

  it("yarn berry: npm resolutions only (workspace, link and patch entries left out)", async () => {
    const drafts = parseYarnLock(await fixture("yarn-berry/yarn.lock"), "/yarn.lock");
    expect(ids(drafts)).toEqual([
      "@babel/runtime@7.17.2",
      "js-tokens@4.0.0",
      "loose-envify@1.4.0",
      "resolve@1.22.8",
    ]);
  });

  it("pnpm v5 path keys (/name/1.0.0, peer suffix); dev entries left out", async () => {
    const drafts = parsePnpmLock(await fixture("pnpm-v5/pnpm-lock.yaml"), "/pnpm-lock.yaml");
    expect(ids(drafts)).toEqual(["js-tokens@4.0.0", "lodash@4.17.21", "loose-envify@1.4.0"]);
  });

  it("pnpm v6 keys (/name@1.0.0(peer)); dev entries left out", async () => {
    const drafts = parsePnpmLock(await fixture("pnpm-v6/pnpm-lock.yaml"), "/pnpm-lock.yaml");
    expect(ids(drafts)).toEqual([
      "@babel/runtime@7.17.2",
      "@element-plus/icons-vue@2.3.1",
      "js-tokens@4.0.0",
      "loose-envify@1.4.0",
    ]);
  });

  it("pnpm v9 packages: keys (real file)", async () => {
    const drafts = parsePnpmLock(await fixture("pnpm-v9/pnpm-lock.yaml"), "/pnpm-lock.yaml");
    expect(drafts).toHaveLength(10);
    expect(ids(drafts).slice(0, 4)).toEqual([
      "@ampproject/remapping@2.3.0",
      "@antfu/install-pkg@1.1.0",
      "@antfu/utils@0.7.10",
      "@antfu/utils@8.1.1",
    ]);
    expect(drafts[0]?.pkg.purl).toBe("pkg:npm/%40ampproject/remapping@2.3.0");
    const odd =
      "lockfileVersion: '9.0'\n\npackages:\n\n  thing@https://codeload.github.com/x/thing/tar.gz/abc:\n    resolution: {tarball: https://codeload.github.com/x/thing/tar.gz/abc}\n    version: 1.0.0\n\n  local@file:packages/local:\n    resolution: {directory: packages/local, type: directory}\n";
    expect(ids(parsePnpmLock(odd, "/pnpm-lock.yaml"))).toEqual(["thing@1.0.0"]);
  });

  it("pnpm v9 with snapshots: only what production importers reach counts (dev left out)", () => {
    const text = [
      "lockfileVersion: '9.0'",
      "",
      "importers:",
      "",
      "  .:",
      "    dependencies:",
      "      react-dom:",
      "        specifier: ^18.2.0",
      "        version: 18.2.0(react@18.2.0)",
      "      string-width-cjs:",
      "        specifier: npm:string-width@^4.2.0",
      "        version: string-width@4.2.3",
      "      shared:",
      "        specifier: link:../shared",
      "        version: link:../shared",
      "    devDependencies:",
      "      vitest:",
      "        specifier: ^1.0.0",
      "        version: 1.6.0",
      "",
      "packages:",
      "",
      "  loose-envify@1.4.0:",
      "    resolution: {integrity: sha512-a}",
      "  react-dom@18.2.0:",
      "    resolution: {integrity: sha512-b}",
      "  react@18.2.0:",
      "    resolution: {integrity: sha512-c}",
      "  string-width@4.2.3:",
      "    resolution: {integrity: sha512-d}",
      "  tinypool@0.8.4:",
      "    resolution: {integrity: sha512-e}",
      "  vitest@1.6.0:",
      "    resolution: {integrity: sha512-f}",
      "",
      "snapshots:",
      "",
      "  loose-envify@1.4.0: {}",
      "  react-dom@18.2.0(react@18.2.0):",
      "    dependencies:",
      "      loose-envify: 1.4.0",
      "      react: 18.2.0",
      "  react@18.2.0:",
      "    dependencies:",
      "      loose-envify: 1.4.0",
      "  string-width@4.2.3: {}",
      "  tinypool@0.8.4: {}",
      "  vitest@1.6.0:",
      "    dependencies:",
      "      tinypool: 0.8.4",
      "",
    ].join("\n");
    expect(ids(parsePnpmLock(text, "/pnpm-lock.yaml"))).toEqual([
      "loose-envify@1.4.0",
      "react-dom@18.2.0",
      "react@18.2.0",
      "string-width@4.2.3",
    ]);
  });
});

describe("pom.xml", () => {
  it("declared versions (real file); test scope left out", async () => {
    const drafts = parsePom(await fixture("maven/pom.xml"), "/pom.xml");
    expect(ids(drafts)).toEqual([
      "org.springframework:spring-context@4.3.1.RELEASE",
      "org.springframework:spring-jdbc@4.3.1.RELEASE",
      "org.springframework:spring-test@4.3.1.RELEASE",
      "postgresql:postgresql@9.1-901.jdbc4",
    ]);
    expect(drafts[0]?.pkg).toMatchObject({
      ecosystem: "Maven",
      purl: "pkg:maven/org.springframework/spring-context@4.3.1.RELEASE",
    });
  });

  it("resolves property references, project.* and dependencyManagement; no parent lookups", async () => {
    const drafts = parsePom(await fixture("maven-properties/pom.xml"), "/pom.xml");
    expect(ids(drafts)).toEqual([
      "com.fasterxml.jackson.core:jackson-databind@2.10.5",
      "org.apache.logging.log4j:log4j-core@2.14.1",
      "org.apache.commons:commons-text@1.9",
      "com.example.shop:shop-model@1.4.0",
    ]);
  });

  it("rejects XML that does not parse, and XML that is not a POM", () => {
    expect(() => parsePom("<project><dependencies>", "/pom.xml")).toThrow(/not a valid pom\.xml/);
    expect(() => parsePom("<settings/>", "/pom.xml")).toThrow(/no <project> element/);
  });
});

describe("walking a tree", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-lockfiles-"));
    const files: Record<string, string> = {
      "py/requirements.txt": "requests==2.30.0\n",
      "broken/poetry.lock": '[[package]\nname = "x"\n',
      "broken/Pipfile.lock": "{ not json",
      "broken/composer.lock": "[]",
      "broken/package-lock.json": '{"lockfileVersion": 3, ',
      "broken/pnpm-lock.yaml": "packages: [unclosed\n",
      "broken/yarn.lock": '__metadata:\n  version: 8\n"a@npm:1": [\n',
      "broken/pom.xml": "<project><dependencies><dependency></project>",
      "broken/go.mod": "module x\nrequire\n",
      "broken/Cargo.lock": "[[package]]\nname = ",
      "broken/Gemfile.lock": "just some text\n",
      "broken/packages.lock.json": '{"version": 1}',
      "broken/uv.lock": "version = = 1\n",
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), content);
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("warns once per malformed lock file, naming it, and still catalogs the good ones", async () => {
    const result = await catalogFilesystem(dir);
    expect(result.packages.map((p) => `${p.name}@${p.version} ${p.locations[0]}`)).toEqual([
      "requests@2.30.0 /py/requirements.txt",
    ]);
    const named = result.warnings.map((w) => w.split(":")[0]).sort();
    expect(named).toEqual(
      [
        "/broken/Cargo.lock",
        "/broken/Gemfile.lock",
        "/broken/Pipfile.lock",
        "/broken/composer.lock",
        "/broken/go.mod",
        "/broken/package-lock.json",
        "/broken/packages.lock.json",
        "/broken/pnpm-lock.yaml",
        "/broken/poetry.lock",
        "/broken/pom.xml",
        "/broken/uv.lock",
        "/broken/yarn.lock",
      ].sort(),
    );
    for (const warning of result.warnings) {
      expect(warning).toMatch(/^\/broken\/\S+: [\w-]+ cataloger could not read it: \S/);
      expect(warning).not.toMatch(/\n|at .*\.ts:\d+/);
    }
  });

  it("package-lock.json that is not JSON is a warning now, not silently nothing", () => {
    expect(() => parseNpmLockfile("{", "/package-lock.json")).toThrow(/package-lock\.json/);
  });
});

describe("which scans read lock files", () => {
  const SOURCE_ONLY = [
    "app/requirements.txt",
    "app/Pipfile.lock",
    "app/poetry.lock",
    "app/uv.lock",
    "app/go.mod",
    "app/go.sum",
    "app/Gemfile.lock",
    "app/composer.lock",
    "app/yarn.lock",
    "app/pnpm-lock.yaml",
    "app/package-lock.json",
    "app/pom.xml",
  ];

  it("source-tree lock files are read in fs: scans only, as Trivy", () => {
    for (const path of SOURCE_ONLY) {
      expect(interestIn(path, 0o644, "image"), path).toBeUndefined();
      expect(interestIn(path, 0o644, "filesystem"), path).toMatchObject({ kind: "cataloger" });
    }
  });

  it("Cargo.lock and packages.lock.json are read in images too, as Trivy", () => {
    for (const path of ["app/Cargo.lock", "app/packages.lock.json"]) {
      expect(interestIn(path, 0o644, "image"), path).toMatchObject({ kind: "cataloger" });
    }
  });

  it("lock files inside node_modules or vendor are not the project's", () => {
    for (const path of [
      "app/node_modules/x/yarn.lock",
      "app/node_modules/x/pnpm-lock.yaml",
      "app/vendor/x/composer.lock",
    ]) {
      expect(interestIn(path, 0o644, "filesystem"), path).toBeUndefined();
    }
  });
});
