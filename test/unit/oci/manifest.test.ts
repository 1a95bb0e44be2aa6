// Manifest and index validation with malformed inputs (src/oci/manifest.ts).
import { describe, expect, it } from "vitest";
import {
  annotationsOf,
  EMPTY_JSON_DIGEST,
  effectiveArtifactType,
  formatPlatform,
  ManifestError,
  MediaType,
  parseManifest,
  parsePlatform,
  referencedDescriptors,
} from "../../../src/oci/index.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const config = { mediaType: MediaType.OciConfig, digest: D1, size: 10 };
const layer = { mediaType: MediaType.OciLayerGzip, digest: D2, size: 20 };

function bytes(doc: unknown): Buffer {
  return Buffer.from(typeof doc === "string" ? doc : JSON.stringify(doc));
}

function image(extra: Record<string, unknown> = {}) {
  return { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer], ...extra };
}

describe("image manifests", () => {
  it("parses an OCI image manifest", () => {
    const parsed = parseManifest(bytes(image()));
    expect(parsed.kind).toBe("image");
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    expect(referencedDescriptors(parsed)).toEqual({ blobs: [config, layer], manifests: [] });
    expect(effectiveArtifactType(parsed)).toBe(MediaType.OciConfig);
  });

  it("takes the media type from Content-Type when the document has none", () => {
    const doc = {
      schemaVersion: 2,
      config: { ...config, mediaType: MediaType.DockerConfig },
      layers: [layer],
    };
    expect(parseManifest(bytes(doc), `${MediaType.DockerManifest}; charset=utf-8`).mediaType).toBe(
      MediaType.DockerManifest,
    );
    expect(parseManifest(bytes(doc)).mediaType).toBe(MediaType.OciManifest);
  });

  it("parses an artifact with artifactType, empty config, subject and annotations", () => {
    const doc = image({
      artifactType: "application/vnd.example.sbom",
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      subject: { mediaType: MediaType.OciManifest, digest: D2, size: 100 },
      annotations: { "org.example": "yes" },
    });
    const parsed = parseManifest(bytes(doc));
    expect(parsed.subject?.digest).toBe(D2);
    expect(effectiveArtifactType(parsed)).toBe("application/vnd.example.sbom");
    expect(annotationsOf(parsed)).toEqual({ "org.example": "yes" });
  });

  it("skips foreign layers with urls when listing required blobs", () => {
    const foreign = {
      ...layer,
      digest: D1,
      mediaType: MediaType.DockerForeignLayerGzip,
      urls: ["https://example.com/x"],
    };
    const parsed = parseManifest(bytes(image({ layers: [layer, foreign] })));
    expect(referencedDescriptors(parsed).blobs.map((d) => d.digest)).toEqual([D1, D2]);
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["an array", "[]", /JSON object/],
    ["schema 1", { schemaVersion: 1 }, /schema 1/],
    ["no schemaVersion", { mediaType: MediaType.OciManifest }, /schemaVersion must be 2/],
    ["a string schemaVersion", image({ schemaVersion: "2" }), /schemaVersion must be 2/],
    [
      "an unknown media type",
      image({ mediaType: "application/json" }),
      /unsupported manifest media type/,
    ],
    ["a numeric mediaType", image({ mediaType: 5 }), /mediaType must be a string/],
    ["no config", image({ config: undefined }), /config must be an object/],
    ["layers not an array", image({ layers: {} }), /layers must be an array/],
    [
      "a layer without digest",
      image({ layers: [{ mediaType: MediaType.OciLayer, size: 1 }] }),
      /layers\[0\]\.digest is required/,
    ],
    [
      "a malformed layer digest",
      image({ layers: [{ ...layer, digest: "sha256:zz" }] }),
      /layers\[0\]\.digest/,
    ],
    ["a negative size", image({ layers: [{ ...layer, size: -1 }] }), /layers\[0\]\.size/],
    ["a fractional size", image({ config: { ...config, size: 1.5 } }), /config\.size/],
    [
      "a bad descriptor mediaType",
      image({ config: { ...config, mediaType: "nonsense" } }),
      /config\.mediaType/,
    ],
    ["non-string annotations", image({ annotations: { a: 1 } }), /annotations must map strings/],
    ["a bad artifactType", image({ artifactType: "bad" }), /artifactType/],
    ["a bad subject", image({ subject: { digest: D1 } }), /subject/],
    ["manifests in an image", image({ manifests: [] }), /must not have "manifests"/],
    ["urls not strings", image({ layers: [{ ...layer, urls: [1] }] }), /urls/],
  ])("rejects %s", (_name, doc, message) => {
    expect(() => parseManifest(bytes(doc))).toThrow(ManifestError);
    expect(() => parseManifest(bytes(doc))).toThrow(message);
  });

  it("rejects a Docker schema2 manifest without layers", () => {
    const doc = { schemaVersion: 2, mediaType: MediaType.DockerManifest, config, layers: [] };
    expect(() => parseManifest(bytes(doc))).toThrow(/at least one layer/);
  });

  it("rejects a Content-Type that contradicts the document", () => {
    expect(() => parseManifest(bytes(image()), MediaType.DockerManifest)).toThrow(
      /does not match Content-Type/,
    );
  });

  it("cannot tell the type of a shapeless document", () => {
    expect(() => parseManifest(bytes({ schemaVersion: 2 }))).toThrow(/cannot tell/);
  });
});

describe("indexes", () => {
  const child = {
    mediaType: MediaType.OciManifest,
    digest: D1,
    size: 100,
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  };

  it("parses an index and lists child manifests", () => {
    const parsed = parseManifest(
      bytes({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child] }),
    );
    expect(parsed.kind).toBe("index");
    expect(referencedDescriptors(parsed)).toEqual({ blobs: [], manifests: [child] });
    expect(effectiveArtifactType(parsed)).toBeUndefined();
  });

  it("recognises an index by shape and a Docker list by Content-Type", () => {
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] })).mediaType).toBe(
      MediaType.OciIndex,
    );
    expect(
      parseManifest(bytes({ schemaVersion: 2, manifests: [] }), MediaType.DockerManifestList)
        .mediaType,
    ).toBe(MediaType.DockerManifestList);
  });

  it.each([
    ["manifests not an array", { manifests: {} }, /manifests must be an array/],
    ["config in an index", { manifests: [], config }, /must not have "config"/],
    [
      "a platform without os",
      { manifests: [{ ...child, platform: { architecture: "amd64" } }] },
      /platform/,
    ],
    [
      "a non-string variant",
      { manifests: [{ ...child, platform: { os: "linux", architecture: "arm", variant: 7 } }] },
      /variant/,
    ],
    [
      "a child with a bad digest",
      { manifests: [{ ...child, digest: "nope" }] },
      /manifests\[0\]\.digest/,
    ],
  ])("rejects %s", (_name, extra, message) => {
    const doc = { schemaVersion: 2, mediaType: MediaType.OciIndex, ...extra };
    expect(() => parseManifest(bytes(doc))).toThrow(message);
  });
});

describe("platforms", () => {
  it("formats and parses os/arch[/variant]", () => {
    expect(formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" })).toBe(
      "linux/arm64/v8",
    );
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("linux/arm/v7")).toEqual({
      os: "linux",
      architecture: "arm",
      variant: "v7",
    });
    for (const bad of ["linux", "linux//amd64", "a/b/c/d", ""])
      expect(() => parsePlatform(bad)).toThrow(ManifestError);
  });
});
