// Repository names, tags, manifest references and image references (src/oci/reference.ts).
import { describe, expect, it } from "vitest";
import {
  formatImageReference,
  ImageReferenceError,
  isValidManifestReference,
  isValidRepositoryName,
  isValidTag,
  parseImageReference,
  projectOf,
} from "../../../src/oci/index.js";

const HEX = "a".repeat(64);

describe("repository names", () => {
  it.each([
    "a",
    "library/alpine",
    "team/app/web",
    "a.b",
    "a_b",
    "a__b",
    "a-b",
    "a---b",
    "0/1",
    "x".repeat(255),
  ])("accepts %s", (name) => expect(isValidRepositoryName(name)).toBe(true));
  it.each([
    "",
    "A",
    "team/App",
    "/a",
    "a/",
    "a//b",
    "-a",
    "a-",
    "a.",
    ".a",
    "a___b",
    "a_.b",
    "a b",
    "a:b",
    "a@b",
    "x".repeat(256),
  ])("rejects %j", (name) => expect(isValidRepositoryName(name)).toBe(false));
});

describe("tags", () => {
  it.each(["latest", "v1.2.3", "_hidden", "A-Z_0.9", "x".repeat(128)])("accepts %s", (tag) =>
    expect(isValidTag(tag)).toBe(true),
  );
  it.each(["", ".hidden", "-dash", "a/b", "a:b", "x".repeat(129), "tag with space", "ü"])(
    "rejects %j",
    (tag) => expect(isValidTag(tag)).toBe(false),
  );
});

describe("manifest references", () => {
  it("accepts tags and supported digests", () => {
    expect(isValidManifestReference("v1")).toBe(true);
    expect(isValidManifestReference(`sha256:${HEX}`)).toBe(true);
    expect(isValidManifestReference(`sha512:${"b".repeat(128)}`)).toBe(true);
  });
  it("rejects malformed digests and tags", () => {
    expect(isValidManifestReference("sha256:abc")).toBe(false);
    expect(isValidManifestReference(`md5:${HEX}`)).toBe(false);
    expect(isValidManifestReference(".bad")).toBe(false);
  });
});

describe("projectOf", () => {
  it("takes the first path component", () => {
    expect(projectOf("team/app/web")).toBe("team");
    expect(projectOf("solo")).toBe("solo");
  });
});

describe("image references", () => {
  it("applies docker's defaults for Docker Hub", () => {
    expect(parseImageReference("alpine")).toEqual({
      registry: "docker.io",
      repository: "library/alpine",
      tag: undefined,
      digest: undefined,
    });
    expect(parseImageReference("index.docker.io/user/app:1")).toMatchObject({
      registry: "docker.io",
      repository: "user/app",
      tag: "1",
    });
  });

  it("recognises registries by dot, colon or localhost", () => {
    expect(parseImageReference("localhost/app")).toMatchObject({
      registry: "localhost",
      repository: "app",
    });
    expect(parseImageReference("127.0.0.1:5000/team/app:v2")).toMatchObject({
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "v2",
    });
    expect(parseImageReference("team/app")).toMatchObject({
      registry: "docker.io",
      repository: "team/app",
    });
  });

  it("parses tag and digest together", () => {
    const ref = parseImageReference(`reg.example.com/app:v1@sha256:${HEX}`);
    expect(ref).toEqual({
      registry: "reg.example.com",
      repository: "app",
      tag: "v1",
      digest: `sha256:${HEX}`,
    });
    expect(formatImageReference(ref)).toBe(`reg.example.com/app:v1@sha256:${HEX}`);
  });

  it.each(["UPPER/app", "app@sha256:short", "app:bad tag", "reg.io/", "reg.io/app:.x"])(
    "rejects %j",
    (text) => expect(() => parseImageReference(text)).toThrow(ImageReferenceError),
  );
});
