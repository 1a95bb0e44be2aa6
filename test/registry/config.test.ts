// Configuration: defaults, file + environment + flag precedence, validation messages that
// name the key, and `berth serve` refusing a bad setting with exit code 2 and one sentence.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseByteSize, parseDuration } from "../../src/config/config.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-config-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadConfig", () => {
  it("has safe defaults", () => {
    const c = loadConfig({ env: {}, cwd: "/srv" });
    expect(c.listen).toBe("127.0.0.1:5000");
    expect(c.dataDir).toBe("/srv/data");
    expect(c.database.path).toBe("/srv/data/berth.db");
    expect(c.storage.path).toBe("/srv/data");
    expect(c.uploads.purgeAfterMs).toBe(24 * 3600_000);
    expect(c.manifests.maxBytes).toBe(4 * 1024 * 1024);
  });

  it("layers file < environment < flags", async () => {
    const file = join(dir, "berth.yaml");
    await writeFile(
      file,
      "listen: 0.0.0.0:6000\ndata: /var/berth\nuploads:\n  purgeAfter: 2h\nmanifests:\n  maxBytes: 1MiB\n",
    );
    const fromFile = loadConfig({ file, env: {} });
    expect(fromFile.listen).toBe("0.0.0.0:6000");
    expect(fromFile.uploads.purgeAfterMs).toBe(7_200_000);
    expect(fromFile.manifests.maxBytes).toBe(1024 * 1024);
    const fromEnv = loadConfig({
      file,
      env: { BERTH_LISTEN: "127.0.0.1:7000", BERTH_UPLOAD_PURGE_AFTER: "30m" },
    });
    expect(fromEnv.listen).toBe("127.0.0.1:7000");
    expect(fromEnv.uploads.purgeAfterMs).toBe(1_800_000);
    const fromFlag = loadConfig({
      file,
      env: { BERTH_LISTEN: "127.0.0.1:7000" },
      overrides: { listen: "127.0.0.1:8000" },
    });
    expect(fromFlag.listen).toBe("127.0.0.1:8000");
    expect(fromFlag.dataDir).toBe("/var/berth");
  });

  it("reads JSON files too", async () => {
    const file = join(dir, "berth.json");
    await writeFile(file, JSON.stringify({ logLevel: "warn", delete: { enabled: false } }));
    const c = loadConfig({ file, env: {} });
    expect(c.logLevel).toBe("warn");
    expect(c.deleteEnabled).toBe(false);
  });

  it.each([
    [{ BERTH_UPLOAD_PURGE_AFTER: "soon" }, /uploads\.purgeAfter \(BERTH_UPLOAD_PURGE_AFTER\)/],
    [{ BERTH_MAX_MANIFEST_BYTES: "-4" }, /manifests\.maxBytes \(BERTH_MAX_MANIFEST_BYTES\)/],
    [{ BERTH_LISTEN: "127.0.0.1:99999" }, /listen \(BERTH_LISTEN\)/],
    [{ BERTH_LOG_LEVEL: "loud" }, /logLevel \(BERTH_LOG_LEVEL\).*one of/],
    [{ BERTH_DELETE_ENABLED: "maybe" }, /delete\.enabled/],
    [{ BERTH_DATABASE_DRIVER: "postgres" }, /database\.url \(BERTH_DATABASE_URL\): required when/],
    [{ BERTH_DATABASE_DRIVER: "postgres", BERTH_DATABASE_URL: "mysql://x" }, /postgres:\/\/ URL/],
    [{ BERTH_DATABASE_DRIVER: "oracle" }, /database\.driver/],
  ])("names the key of a bad setting %o", (env, pattern) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(pattern);
  });

  it("rejects unknown keys, bad YAML and missing files", async () => {
    const typo = join(dir, "typo.yaml");
    await writeFile(typo, "uploads:\n  purgeAftr: 1h\n");
    expect(() => loadConfig({ file: typo, env: {} })).toThrow(/unknown setting uploads\.purgeAftr/);
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "listen: [unclosed\n");
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(/not valid YAML or JSON/);
    expect(() => loadConfig({ file: join(dir, "absent.yaml"), env: {} })).toThrow(
      /cannot read config file/,
    );
  });

  it("parses durations and sizes", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1500")).toBe(1500);
    expect(parseDuration("250ms")).toBe(250);
    expect(() => parseDuration("1x")).toThrow();
    expect(parseByteSize("4MiB")).toBe(4_194_304);
    expect(parseByteSize("512kB")).toBe(512_000);
    expect(parseByteSize("1TiB")).toBe(1024 ** 4); // the docs' `berth admin quota set --system 1TiB`
    expect(parseByteSize("2TB")).toBe(2 * 1000 ** 4);
    expect(parseByteSize(100)).toBe(100);
    expect(() => parseByteSize("0")).toThrow();
    expect(() => parseByteSize("4 parsecs")).toThrow();
  });
});

describe("tls settings", () => {
  it("are set together, as absolute paths", () => {
    const c = loadConfig({
      env: { BERTH_TLS_CERT: "tls/server.crt", BERTH_TLS_KEY: "/etc/berth/server.key" },
      cwd: "/srv",
    });
    expect(c.tls).toEqual({ cert: "/srv/tls/server.crt", key: "/etc/berth/server.key" });
    expect(loadConfig({ env: {} }).tls).toEqual({ cert: "", key: "" });
    expect(() => loadConfig({ env: { BERTH_TLS_CERT: "/x.crt" } })).toThrow(
      "invalid setting tls.key (BERTH_TLS_KEY): tls.cert and tls.key must be set together",
    );
  });
});

describe("berth serve", () => {
  it("exits 2 with one sentence naming the key for a bad setting", async () => {
    const bin = resolve(import.meta.dirname, "../../bin/berth.js");
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
      (done, fail) => {
        const child = spawn(process.execPath, [bin, "serve", "--data", join(dir, "data")], {
          env: { ...process.env, BERTH_UPLOAD_PURGE_AFTER: "whenever" },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d) => {
          err += d;
        });
        child.on("error", fail);
        child.on("close", (c) => done({ code: c, stderr: err }));
      },
    );
    expect(code).toBe(2);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^berth: invalid setting uploads\.purgeAfter \(BERTH_UPLOAD_PURGE_AFTER\): .+/,
    );
  });
});

describe("S3 storage and shared-key settings", () => {
  const s3 = {
    BERTH_STORAGE_DRIVER: "s3",
    BERTH_S3_ENDPOINT: "http://127.0.0.1:7480/",
    BERTH_S3_BUCKET: "blobs",
    BERTH_S3_FORCE_PATH_STYLE: "true",
    BERTH_S3_ACCESS_KEY_ID: "AK",
    BERTH_S3_SECRET_ACCESS_KEY: "SK",
    BERTH_S3_REDIRECT: "true",
    BERTH_S3_REDIRECT_EXPIRY: "5m",
  };
  it("reads storage.s3.* from the environment", () => {
    const c = loadConfig({ env: s3, cwd: "/srv" });
    expect(c.storage.driver).toBe("s3");
    expect(c.storage.s3).toMatchObject({
      endpoint: "http://127.0.0.1:7480",
      bucket: "blobs",
      forcePathStyle: true,
      accessKeyId: "AK",
      secretAccessKey: "SK",
      redirect: true,
      redirectExpiryMs: 300_000,
      region: "us-east-1",
    });
  });
  it("names the key of each bad S3 setting", () => {
    expect(() => loadConfig({ env: { ...s3, BERTH_S3_BUCKET: "" } })).toThrow(
      /storage\.s3\.bucket \(BERTH_S3_BUCKET\): required when storage\.driver is s3/,
    );
    expect(() => loadConfig({ env: { ...s3, BERTH_S3_SECRET_ACCESS_KEY: "" } })).toThrow(
      /storage\.s3\.secretAccessKey .* must be set together/,
    );
    expect(() => loadConfig({ env: { ...s3, BERTH_S3_ENDPOINT: "ftp://x" } })).toThrow(
      /storage\.s3\.endpoint \(BERTH_S3_ENDPOINT\): must be an http/,
    );
    expect(() => loadConfig({ env: { ...s3, BERTH_S3_SSE: "rot13" } })).toThrow(
      /storage\.s3\.serverSideEncryption \(BERTH_S3_SSE\)/,
    );
    expect(() => loadConfig({ env: { BERTH_AUTH_SECRET_KEY: "c2hvcnQ=" } })).toThrow(
      /auth\.secretKey \(BERTH_AUTH_SECRET_KEY\): must be base64 of 32 bytes/,
    );
  });
});
