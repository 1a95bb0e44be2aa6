// Unit tests of the web UI's data shaping: layer ↔ history alignment as the artifact detail
// API answers it (src/api/artifact-overview.ts, over src/oci/history.ts), artifact kinds,
// size/digest/time formatting, pull commands, and the permission-dependent menus.
import { describe, expect, it } from "vitest";
import { artifactOverview, layerViews } from "../../src/api/artifact-overview.js";
import { artifactKind, tagSchemeSubject } from "../../src/oci/artifact-kind.js";
import { type ImageConfig, MediaType, parseManifest } from "../../src/oci/index.js";
import { parseRetentionPolicy, policyDocument } from "../../src/policy/retention.js";
import { acceptsGzip } from "../../src/web-ui.js";
import {
  expiryRequest,
  formatBytes,
  formatWhen,
  pullCommands,
  quotaFraction,
  quotaLimitRequest,
  shortDigest,
} from "../../web/src/shape/format.js";
import { mainNavigation, projectAbilities } from "../../web/src/shape/menus.js";
import {
  describeRule,
  emptyRule,
  retentionDocument,
  retentionForm,
} from "../../web/src/shape/retention.js";
import { sbomPackages, severityCounts, severityTone } from "../../web/src/shape/scan.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;

function image(layerCount: number) {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: d("c"), size: 100 },
    layers: Array.from({ length: layerCount }, (_, i) => ({
      mediaType: MediaType.OciLayerGzip,
      digest: d(String(i + 1)),
      size: 1000 * (i + 1),
    })),
    annotations: { "org.opencontainers.image.source": "https://example.com/app" },
  };
  return parseManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
}

function config(history: ImageConfig["history"]): ImageConfig {
  return {
    architecture: "arm64",
    os: "linux",
    variant: "v8",
    created: "2024-05-01T00:00:00Z",
    config: {
      Entrypoint: ["/app"],
      Cmd: ["--serve"],
      Env: ["PATH=/usr/bin"],
      Labels: { team: "platform" },
      ExposedPorts: { "8080/tcp": {} },
    },
    rootfs: { type: "layers", diff_ids: [] },
    history,
  };
}

describe("layers with the command that made each", () => {
  it("skips empty_layer steps when pairing history with layers", () => {
    const { layers, warnings } = layerViews(
      image(2),
      config([
        { created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
        { created_by: "/bin/sh -c #(nop)  ENV A=1", empty_layer: true },
        { created_by: "RUN /bin/sh -c apt-get install -y curl # buildkit" },
        { created_by: '/bin/sh -c #(nop)  CMD ["--serve"]', empty_layer: true },
      ]),
    );
    expect(warnings).toEqual([]);
    expect(layers.map((l) => l.command)).toEqual([
      "ADD file:abc in /",
      "RUN apt-get install -y curl",
    ]);
    expect(layers.map((l) => l.size)).toEqual([1000, 2000]);
    expect(layers[1]?.createdBy).toBe("RUN /bin/sh -c apt-get install -y curl # buildkit");
  });

  it("attributes no command when history and layers disagree, and says why", () => {
    const { layers, warnings } = layerViews(image(3), config([{ created_by: "RUN one" }]));
    expect(layers.map((l) => l.command)).toEqual([null, null, null]);
    expect(warnings[0]).toContain("1 layer-creating steps for 3 layers");
  });

  it("answers the config overview, the full history and annotations", () => {
    const overview = artifactOverview(
      d("a"),
      image(1),
      config([{ created_by: "COPY app /app", created: "2024-05-01T00:00:00Z" }]),
      ["v1"],
    );
    expect(overview.kind).toBe("image");
    expect(overview.config).toMatchObject({
      platform: "linux/arm64/v8",
      entrypoint: ["/app"],
      cmd: ["--serve"],
      env: ["PATH=/usr/bin"],
      labels: { team: "platform" },
      exposedPorts: ["8080/tcp"],
      created: "2024-05-01T00:00:00Z",
    });
    expect(overview.history).toEqual([
      { createdBy: "COPY app /app", created: "2024-05-01T00:00:00Z", emptyLayer: false },
    ]);
    expect(overview.annotations["org.opencontainers.image.source"]).toBe("https://example.com/app");
  });

  it("lists the platforms of an index and no layers", () => {
    const index = parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [
            {
              mediaType: MediaType.OciManifest,
              digest: d("1"),
              size: 10,
              platform: { os: "linux", architecture: "amd64" },
            },
            {
              mediaType: MediaType.OciManifest,
              digest: d("2"),
              size: 20,
              platform: { os: "linux", architecture: "arm", variant: "v7" },
            },
          ],
        }),
      ),
      MediaType.OciIndex,
    );
    const overview = artifactOverview(d("f"), index, undefined, []);
    expect(overview.kind).toBe("index");
    expect(overview.layers).toEqual([]);
    expect(overview.platforms).toEqual([
      { digest: d("1"), platform: "linux/amd64", size: 10 },
      { digest: d("2"), platform: "linux/arm/v7", size: 20 },
    ]);
  });
});

describe("artifact kinds", () => {
  it("tells images, indexes, signatures, attestations, SBOMs and other artifacts apart", () => {
    const oci = MediaType.OciManifest;
    expect(artifactKind({ mediaType: oci, artifactType: MediaType.OciConfig })).toBe("image");
    expect(artifactKind({ mediaType: MediaType.DockerManifestList, artifactType: null })).toBe(
      "index",
    );
    expect(
      artifactKind({
        mediaType: oci,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
      }),
    ).toBe("signature");
    expect(artifactKind({ mediaType: oci, artifactType: "application/vnd.in-toto+json" })).toBe(
      "attestation",
    );
    expect(artifactKind({ mediaType: oci, artifactType: "application/spdx+json" })).toBe("sbom");
    expect(artifactKind({ mediaType: oci, artifactType: "application/vnd.cyclonedx+json" })).toBe(
      "sbom",
    );
    expect(
      artifactKind({ mediaType: oci, artifactType: "application/vnd.cncf.helm.config.v1+json" }),
    ).toBe("other");
    // cosign's tag scheme: the config type says little, the tag says what it is.
    const sigTag = `sha256-${"a".repeat(64)}.sig`;
    expect(
      artifactKind({ mediaType: oci, artifactType: MediaType.OciConfig, tags: [sigTag] }),
    ).toBe("signature");
    expect(tagSchemeSubject(sigTag)).toBe(d("a"));
    expect(tagSchemeSubject("v1.sig")).toBeUndefined();
  });
});

describe("formatting", () => {
  it("writes sizes as the CLI does (SI units) and refuses nonsense", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(12_345_678)).toBe("12.3 MB");
    expect(formatBytes(123_000_000)).toBe("123 MB");
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
  });

  it("shortens digests to algorithm plus 12 hex digits", () => {
    expect(shortDigest(d("ab"))).toBe("sha256:abababababab");
    expect(shortDigest("nocolon0123456789")).toBe("nocolon01234");
  });

  it("writes times relative to now, and absolute past a month", () => {
    const now = Date.parse("2026-01-31T12:00:00Z");
    expect(formatWhen(null, now)).toBe("never");
    expect(formatWhen("2026-01-31T11:59:30Z", now)).toBe("just now");
    expect(formatWhen("2026-01-31T11:15:00Z", now)).toBe("45 min ago");
    expect(formatWhen("2026-01-31T02:00:00Z", now)).toBe("10 h ago");
    expect(formatWhen("2026-01-30T12:00:00Z", now)).toBe("1 day ago");
    expect(formatWhen("2025-11-01T00:00:00Z", now)).toBe("2025-11-01");
    expect(formatWhen("garbage", now)).toBe("—");
  });

  it("computes the quota bar, unlimited without a bar", () => {
    expect(quotaFraction(50, 200)).toBe(0.25);
    expect(quotaFraction(500, 200)).toBe(1);
    expect(quotaFraction(50, null)).toBeUndefined();
  });

  it("writes pull commands with : for tags and @ for digests", () => {
    expect(pullCommands("reg:5000", "team/app", "v1")).toEqual([
      { tool: "docker", command: "docker pull reg:5000/team/app:v1" },
      { tool: "podman", command: "podman pull reg:5000/team/app:v1" },
      { tool: "skopeo", command: "skopeo copy docker://reg:5000/team/app:v1 oci:app" },
    ]);
    expect(pullCommands("reg", "library/x", d("e"))[0]?.command).toBe(
      `docker pull reg/library/x@${d("e")}`,
    );
  });

  it("sends no expiry for an empty field", () => {
    expect(expiryRequest("  ")).toEqual({});
    expect(expiryRequest("30d")).toEqual({ expiresIn: "30d" });
  });
});

describe("permission-dependent menus", () => {
  it("offers a guest only repositories and vulnerabilities, and a project admin every tab and button", () => {
    const guest = projectAbilities([
      "project:read",
      "repository:list",
      "artifact:list",
      "artifact:pull",
      "tag:list",
    ]);
    expect(guest.tabs).toEqual(["repositories", "vulnerabilities"]);
    expect(guest.canDeleteArtifact || guest.canTag || guest.canUntag || guest.canManageRobots).toBe(
      false,
    );
    expect(guest.canScan).toBe(false);
    expect(projectAbilities(["artifact:list", "artifact:push"]).canScan).toBe(true);
    const admin = projectAbilities([
      "project:read",
      "project:update",
      "member:list",
      "member:manage",
      "log:list",
      "artifact:delete",
      "tag:create",
      "tag:delete",
      "robot:list",
      "robot:manage",
      "policy:read",
      "policy:manage",
    ]);
    expect(admin.tabs).toEqual([
      "repositories",
      "members",
      "robots",
      "audit",
      "policies",
      "settings",
    ]);
    expect(
      admin.canDeleteArtifact && admin.canTag && admin.canUntag && admin.canManageMembers,
    ).toBe(true);
  });

  it("shows administration in the main navigation to system administrators only", () => {
    expect(mainNavigation(undefined)).toEqual([]);
    expect(mainNavigation({ isAdmin: false }).map((e) => e.label)).toEqual(["Projects"]);
    expect(mainNavigation({ isAdmin: true }).map((e) => e.href)).toContain("/admin/users");
  });
});

describe("scanning views", () => {
  const sbom = {
    bomFormat: "CycloneDX",
    components: [
      {
        name: "semver",
        version: "7.5.1",
        purl: "pkg:npm/semver@7.5.1",
        licenses: [{ license: { name: "ISC" } }],
      },
      { name: "libc6", version: "2.36-9", purl: "pkg:deb/debian/libc6@2.36-9?distro=debian-12" },
      {
        name: "lodash",
        version: "4.17.11",
        purl: "pkg:npm/lodash@4.17.11",
        licenses: [{ license: { id: "MIT" } }, { expression: "Apache-2.0 OR MIT" }],
      },
      { version: "1", purl: "pkg:npm/nameless@1" },
    ],
  };

  it("lists an SBOM's packages by name with their purl type and licences", () => {
    expect(
      sbomPackages(sbom).map((p) => `${p.name} ${p.version} ${p.type} [${p.licenses}]`),
    ).toEqual([
      "libc6 2.36-9 deb []",
      "lodash 4.17.11 npm [MIT, Apache-2.0 OR MIT]",
      "semver 7.5.1 npm [ISC]",
    ]);
    expect(sbomPackages(sbom, " LOD").map((p) => p.name)).toEqual(["lodash"]);
    expect(sbomPackages(null)).toEqual([]);
    expect(sbomPackages({ spdxVersion: "SPDX-2.3" })).toEqual([]);
  });

  it("orders severity counts and leaves zeros out; tones follow severity and verdict", () => {
    expect(severityCounts({ LOW: 2, CRITICAL: 1, HIGH: 0, UNKNOWN: 3 })).toEqual([
      { severity: "CRITICAL", count: 1 },
      { severity: "LOW", count: 2 },
      { severity: "UNKNOWN", count: 3 },
    ]);
    expect(severityCounts(undefined)).toEqual([]);
    expect(["CRITICAL", "MEDIUM", "LOW", "pass", "fail", "undecided"].map(severityTone)).toEqual([
      "bad",
      "warn",
      "",
      "ok",
      "bad",
      "warn",
    ]);
  });
});

describe("serving compressed assets", () => {
  it("reads Accept-Encoding as RFC 9110 says: listed or *, and not with q=0", () => {
    expect(acceptsGzip("gzip, deflate, br")).toBe(true);
    expect(acceptsGzip("br;q=1.0, gzip;q=0.5")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("identity")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe("the retention editor's form model", () => {
  const stored = {
    schedule: "0 3 * * *",
    rules: [
      {
        repositories: { matching: "app/**" },
        tags: { excluding: "latest", untagged: true },
        retain: { mostRecentlyPushed: 5 },
      },
      { repositories: { excluding: "tmp" }, tags: { matching: "**" }, retain: { always: true } },
    ],
  };

  it("round-trips a stored policy through the form unchanged, as the API parser reads it", () => {
    const form = retentionForm(stored);
    expect(form.rules[0]).toMatchObject({
      repositoriesMode: "matching",
      repositories: "app/**",
      tagsMode: "excluding",
      tags: "latest",
      untagged: true,
      retain: "mostRecentlyPushed",
      count: "5",
    });
    expect(form.rules[1]?.retain).toBe("always");
    const doc = retentionDocument(form);
    const parsed = parseRetentionPolicy(doc, () => undefined);
    expect(policyDocument(parsed)).toEqual({
      schedule: "0 3 * * *",
      rules: [stored.rules[0], { ...stored.rules[1], tags: { matching: "**", untagged: false } }],
    });
  });

  it("starts a missing policy with one rule, sends an empty schedule as null, keeps a bad count as typed", () => {
    const form = retentionForm(null);
    expect(form).toEqual({ schedule: "", rules: [emptyRule()] });
    expect(retentionDocument(form).schedule).toBeNull();
    const bad = retentionDocument({ schedule: " ", rules: [{ ...emptyRule(), count: "many" }] });
    expect(bad.rules[0]?.retain).toEqual({ mostRecentlyPushed: "many" });
    expect(() => parseRetentionPolicy(bad, () => undefined)).toThrow(/mostRecentlyPushed/);
  });

  it("describes a rule in a sentence", () => {
    expect(describeRule({ ...emptyRule(), tagsMode: "excluding", tags: "dev-*", count: "3" })).toBe(
      "In **, of tags not dev-*, keep the 3 most recently pushed",
    );
  });
});

describe("quota limits as typed", () => {
  it("reads sizes as the CLI does, empty as unlimited, and refuses other text with a sentence", () => {
    expect(quotaLimitRequest("")).toEqual({ limitBytes: null });
    expect(quotaLimitRequest("2GB")).toEqual({ limitBytes: 2_000_000_000 });
    expect(quotaLimitRequest("1 GiB")).toEqual({ limitBytes: 1024 ** 3 });
    expect(quotaLimitRequest("512")).toEqual({ limitBytes: 512 });
    expect(quotaLimitRequest("lots")).toEqual({
      error: '"lots" is not a size: write e.g. 20GB, 512MiB, or leave it empty',
    });
  });
});
