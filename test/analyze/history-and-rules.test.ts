// The pure pieces of analyze/: reading `created_by` from each builder, aligning history with
// layers, mapping history to Dockerfile lines, dive's size syntax and CI rules.
import { describe, expect, it } from "vitest";
import {
  alignHistory,
  evaluateThresholds,
  formatByteSize,
  mapHistoryToDockerfile,
  parseByteSize,
  parseCreatedBy,
  parseDiveCiFile,
  stageNames,
  ThresholdError,
} from "../../src/analyze/index.js";

describe("parseCreatedBy", () => {
  it("reads classic docker, buildkit and buildah forms", () => {
    expect(parseCreatedBy('/bin/sh -c #(nop)  CMD ["bash"]')).toEqual({
      keyword: "CMD",
      text: '["bash"]',
    });
    expect(parseCreatedBy("/bin/sh -c #(nop) ADD file:4d2c in / ")).toEqual({
      keyword: "ADD",
      text: "file:4d2c in /",
    });
    expect(parseCreatedBy("/bin/sh -c apt-get update &&   apt-get install -y curl")).toEqual({
      keyword: "RUN",
      text: "apt-get update && apt-get install -y curl",
    });
    expect(parseCreatedBy("RUN /bin/sh -c npm ci # buildkit")).toEqual({
      keyword: "RUN",
      text: "npm ci",
    });
    expect(parseCreatedBy("RUN |2 A=1 B=two /bin/sh -c echo $A # buildkit")).toEqual({
      keyword: "RUN",
      text: "echo $A",
    });
    expect(parseCreatedBy("|1 VERSION=3 /bin/sh -c make")).toEqual({
      keyword: "RUN",
      text: "make",
    });
    expect(parseCreatedBy("COPY . /app # buildkit")).toEqual({ keyword: "COPY", text: ". /app" });
    expect(parseCreatedBy("WORKDIR /app")).toEqual({ keyword: "WORKDIR", text: "/app" });
    expect(parseCreatedBy(undefined)).toBeUndefined();
  });
});

describe("alignHistory", () => {
  it("gives the n-th layer to the n-th entry without empty_layer", () => {
    const history = [
      { created_by: "a" },
      { created_by: "b", empty_layer: true },
      { created_by: "c" },
      { created_by: "d", empty_layer: true },
      { created_by: "e" },
    ];
    expect(alignHistory(history, 3)).toEqual({ layerHistory: [0, 2, 4], warnings: [] });
  });

  it("warns when history and layers disagree and leaves missing ones unattributed", () => {
    const result = alignHistory([{ created_by: "a" }], 2);
    expect(result.layerHistory).toEqual([0, undefined]);
    expect(result.warnings[0]).toMatch(/1 layer-creating steps for 2 layers/);
    expect(alignHistory(undefined, 2)).toEqual({
      layerHistory: [undefined, undefined],
      warnings: [],
    });
  });
});

describe("mapHistoryToDockerfile", () => {
  it("follows a final stage built FROM an earlier stage back into that stage", () => {
    const text = [
      "FROM debian:12 AS Base", // 1
      "RUN apt-get update", // 2
      "FROM golang:1.22 AS build", // 3
      "RUN go build", // 4
      "FROM base AS final", // 5
      "COPY --from=build /app /app", // 6
    ].join("\n");
    const history = [
      { created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
      { created_by: "RUN /bin/sh -c apt-get update # buildkit" },
      { created_by: "COPY /app /app # buildkit" },
    ];
    const map = mapHistoryToDockerfile(history, text);
    expect([...map.entries()].map(([h, loc]) => [h, loc.line])).toEqual([
      [2, 6],
      [1, 2],
    ]);
    expect(stageNames(text)).toEqual(["base", "build", "final"]);
  });

  it("gives each instruction to one history entry only", () => {
    const text = ["FROM debian:12", "COPY a /a", "COPY b /b"].join("\n");
    const history = [
      { created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
      { created_by: "COPY a /a # buildkit" },
      { created_by: "COPY b /b # buildkit" },
    ];
    const map = mapHistoryToDockerfile(history, text);
    expect([...map.entries()].map(([h, loc]) => [h, loc.line])).toEqual([
      [2, 3],
      [1, 2],
    ]);
  });

  const dockerfile = [
    "FROM golang:1.22 AS build", // 1
    "WORKDIR /src", // 2
    "RUN go build -o /out/app .", // 3
    "", // 4
    "FROM debian:12-slim", // 5
    "RUN apt-get update \\", // 6
    "    && apt-get install -y ca-certificates", // 7
    "COPY --from=build /out/app /usr/local/bin/app", // 8
    'CMD ["app"]', // 9
  ].join("\n");

  it("maps the final stage's instructions from the end, leaving the base image's alone", () => {
    const history = [
      { created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
      { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
      {
        created_by:
          "RUN /bin/sh -c apt-get update     && apt-get install -y ca-certificates # buildkit",
      },
      { created_by: "COPY /out/app /usr/local/bin/app # buildkit" },
      { created_by: 'CMD ["app"]', empty_layer: true },
    ];
    const map = mapHistoryToDockerfile(history, dockerfile);
    expect([...map.entries()].map(([h, loc]) => [h, loc.line])).toEqual([
      [4, 9],
      [3, 8],
      [2, 6],
    ]);
    expect(map.get(2)?.endLine).toBe(7);
    // The base image's `CMD ["bash"]` must not take the final stage's CMD (already used).
    expect(map.has(1)).toBe(false);
  });

  it("maps a named --target stage and requires RUN text to agree", () => {
    const history = [
      { created_by: "WORKDIR /src" },
      { created_by: "RUN /bin/sh -c go build -o /out/app . # buildkit" },
      { created_by: "RUN /bin/sh -c something else" },
    ];
    const map = mapHistoryToDockerfile(history, dockerfile, "build");
    expect(map.get(1)?.line).toBe(3);
    expect(map.get(0)?.line).toBe(2);
    expect(map.has(2)).toBe(false);
    // Stage names are case-insensitive, as in Docker.
    expect(mapHistoryToDockerfile(history, dockerfile, "BUILD").get(1)?.line).toBe(3);
    expect(stageNames(dockerfile)).toEqual(["build"]);
  });
});

describe("byte sizes (go-humanize, as dive)", () => {
  it("parses SI and IEC units and bare bytes", () => {
    expect(parseByteSize("20MB")).toBe(20_000_000);
    expect(parseByteSize("20 mb")).toBe(20_000_000);
    expect(parseByteSize("20MiB")).toBe(20 * 1024 * 1024);
    expect(parseByteSize("1.5kB")).toBe(1500);
    expect(parseByteSize("512")).toBe(512);
    expect(parseByteSize("20 parsecs")).toBeUndefined();
    expect(parseByteSize("-1MB")).toBeUndefined();
  });

  it("prints SI units", () => {
    expect(formatByteSize(999)).toBe("999 B");
    expect(formatByteSize(12_345_678)).toBe("12.3 MB");
    expect(formatByteSize(8000)).toBe("8 kB");
    expect(formatByteSize(123_456_789)).toBe("123 MB");
  });
});

describe("CI rules", () => {
  const totals = { efficiency: 0.9, wastedBytes: 25_000_000, userWastedPercent: 0.1 };

  it("fails exactly when dive does (efficiency <, bytes >, percent >)", () => {
    const results = evaluateThresholds(totals, {
      lowestEfficiency: 0.95,
      highestWastedBytes: 20_000_000,
      highestUserWastedPercent: 0.1,
    });
    expect(results.map((r) => [r.rule, r.passed])).toEqual([
      ["lowestEfficiency", false],
      ["highestWastedBytes", false],
      // 0.1 is not above 0.1: passes, as in dive.
      ["highestUserWastedPercent", true],
    ]);
    expect(results[0]?.message).toBe(
      "image efficiency is too low (efficiency=0.9 < threshold=0.95)",
    );
    expect(
      evaluateThresholds(totals, { lowestEfficiency: 0.9, highestWastedBytes: 25_000_000 }).every(
        (r) => r.passed,
      ),
    ).toBe(true);
  });

  it("fails the percent rule when waste has no user bytes to relate to", () => {
    const [result] = evaluateThresholds(
      { efficiency: 1, wastedBytes: 10, userWastedPercent: Number.POSITIVE_INFINITY },
      { highestUserWastedPercent: 0.5 },
    );
    expect(result?.passed).toBe(false);
  });

  it("reads a dive .dive-ci file", () => {
    const text = [
      "rules:",
      "  lowestEfficiency: 0.95",
      "  highestWastedBytes: 20MB",
      "  highestUserWastedPercent: disabled",
    ].join("\n");
    expect(parseDiveCiFile(text)).toEqual({
      lowestEfficiency: 0.95,
      highestWastedBytes: 20_000_000,
    });
    expect(() => parseDiveCiFile("rules:\n  lowestEfficency: 0.9\n")).toThrow(ThresholdError);
    expect(() => parseDiveCiFile("rules:\n  highestWastedBytes: lots\n")).toThrow(ThresholdError);
  });
});
