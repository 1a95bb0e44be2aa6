// Digest parsing and computation (src/oci/digest.ts).
import { describe, expect, it } from "vitest";
import {
  DigestError,
  digestOf,
  isDigest,
  parseDigest,
  tryParseDigest,
} from "../../../src/oci/index.js";

describe("parseDigest", () => {
  it("parses sha256 and sha512", () => {
    const d = parseDigest(`sha256:${"0".repeat(64)}`);
    expect(d).toEqual({
      algorithm: "sha256",
      encoded: "0".repeat(64),
      value: `sha256:${"0".repeat(64)}`,
    });
    expect(parseDigest(`sha512:${"f".repeat(128)}`).algorithm).toBe("sha512");
  });

  it.each([
    ["", /malformed/],
    ["sha256", /malformed/],
    [":abc", /malformed/],
    ["sha256:", /malformed/],
    [`sha256:${"0".repeat(63)}`, /64 lowercase hex/],
    [`sha256:${"0".repeat(65)}`, /64 lowercase hex/],
    [`sha256:${"A".repeat(64)}`, /64 lowercase hex/],
    [`sha256:${"g".repeat(64)}`, /64 lowercase hex/],
    [`sha512:${"0".repeat(64)}`, /128 lowercase hex/],
    [`md5:${"0".repeat(32)}`, /unsupported digest algorithm/],
    [`sha256+b64:${"0".repeat(64)}`, /unsupported/],
    [`SHA256:${"0".repeat(64)}`, /malformed/],
    [`sha256:${"0".repeat(64)} `, /malformed/],
  ])("rejects %j", (text, message) => {
    expect(() => parseDigest(text)).toThrow(DigestError);
    expect(() => parseDigest(text)).toThrow(message);
    expect(tryParseDigest(text)).toBeUndefined();
    expect(isDigest(text)).toBe(false);
  });

  it("truncates very long input in messages", () => {
    try {
      parseDigest("x".repeat(1000));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(120);
    }
  });
});

describe("digestOf", () => {
  it("computes the well-known digests", () => {
    expect(digestOf("")).toBe(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(digestOf("{}")).toBe(
      "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    );
    expect(digestOf("", "sha512")).toMatch(/^sha512:cf83e135/);
  });
});
