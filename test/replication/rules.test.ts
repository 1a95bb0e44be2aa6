// The pure parts of replication: rule validation, repository/tag/label filters, destination
// namespaces, the tasks an event rule makes of outbox events, the platform-filtered index
// and the bandwidth bucket.
import { describe, expect, it } from "vitest";
import { nextCronTime } from "../../src/jobs/index.js";
import type { OutboxEvent } from "../../src/meta/index.js";
import { digestOf, type ImageIndex, MediaType } from "../../src/oci/index.js";
import { ruleFromBody } from "../../src/replication/api.js";
import { filteredIndex } from "../../src/replication/engine.js";
import {
  destinationRepository,
  labelsPass,
  RuleInputError,
  selectsRepository,
  selectsTag,
  validateRule,
} from "../../src/replication/rules.js";
import { tasksForEvents } from "../../src/replication/service.js";
import { isAttachmentTag } from "../../src/replication/sides.js";
import { Bandwidth } from "../../src/replication/throttle.js";

const cron = (c: string) => void nextCronTime(c, Date.now());
const rule = (body: Partial<Parameters<typeof ruleFromBody>[0]>) =>
  validateRule(ruleFromBody({ name: "r", endpoint: "e", mode: "push", ...body }), cron);

describe("replication rules", () => {
  it("selects repositories and tags with doublestar patterns, matching and excluding", () => {
    const r = rule({
      repositories: { include: ["team/**"], exclude: ["team/tmp-*"] },
      tags: { include: ["v*", "latest"], exclude: ["*-rc*"] },
    });
    expect(selectsRepository(r.filters, "team/app")).toBe(true);
    expect(selectsRepository(r.filters, "team/a/b")).toBe(true);
    expect(selectsRepository(r.filters, "team/tmp-1")).toBe(false);
    expect(selectsRepository(r.filters, "other/app")).toBe(false);
    expect(selectsTag(r.filters, "v1.2")).toBe(true);
    expect(selectsTag(r.filters, "latest")).toBe(true);
    expect(selectsTag(r.filters, "v2-rc1")).toBe(false);
    expect(selectsTag(r.filters, "main")).toBe(false);
    const all = rule({});
    expect(selectsRepository(all.filters, "x/y/z")).toBe(true);
    expect(selectsTag(all.filters, "anything")).toBe(true);
  });

  it("checks labels by presence and by value pattern", () => {
    const r = rule({ labels: ["release", "tier=prod*"] });
    expect(labelsPass(r.filters, { release: "yes", tier: "production" })).toBe(true);
    expect(labelsPass(r.filters, { release: "yes", tier: "dev" })).toBe(false);
    expect(labelsPass(r.filters, { tier: "prod" })).toBe(false);
    expect(labelsPass(r.filters, undefined)).toBe(false);
  });

  it("maps repositories: keep, flatten N levels, replace the namespace", () => {
    const keep = rule({}).destination;
    expect(destinationRepository(keep, "team/a/app")).toBe("team/a/app");
    const flat1 = rule({ flatten: 1 }).destination;
    expect(destinationRepository(flat1, "team/a/app")).toBe("a/app");
    const flatAll = rule({ flatten: -1, destinationNamespace: "mirror" }).destination;
    expect(destinationRepository(flatAll, "team/a/app")).toBe("mirror/app");
    const replace = rule({ destinationNamespace: "dr" }).destination;
    expect(destinationRepository(replace, "team/app")).toBe("dr/app");
    expect(destinationRepository(replace, "app")).toBe("dr/app");
    const prefix = rule({ destinationNamespace: "dr", flatten: 0 }).destination;
    expect(destinationRepository(prefix, "team/app")).toBe("dr/team/app");
  });

  it("refuses bad rules with a sentence", () => {
    const bad: [Partial<Parameters<typeof ruleFromBody>[0]>, RegExp][] = [
      [{ name: "Bad Name" }, /rule name/],
      [{ platforms: ["amd64"] }, /platform "amd64"/],
      [{ trigger: "cron:not a cron" }, /cron/],
      [{ trigger: "sometimes" }, /trigger/],
      [{ trigger: "event", mode: "pull" }, /mode push/],
      [{ destinationNamespace: "Bad NS" }, /namespace/],
      [{ labels: ["=x"] }, /label filter/],
      [{ concurrency: 0 }, /concurrency/],
      [{ tags: { include: [""] } }, /pattern/],
    ];
    for (const [body, message] of bad) {
      expect(() => rule(body), JSON.stringify(body)).toThrow(RuleInputError);
      expect(() => rule(body)).toThrow(message);
    }
    expect(rule({ trigger: "cron:0 3 * * *" }).cron).toBe("0 3 * * *");
  });

  it("turns outbox events into tasks: pushes, signatures, deletions", () => {
    const hex = "a".repeat(64);
    const at = Date.now();
    const ev = (type: string, repository: string, data: unknown, id: number) =>
      ({ id, type, repository, at, principal: "u", remoteAddress: "", data }) as OutboxEvent;
    const events = [
      ev(
        "manifest.pushed",
        "team/app",
        { digest: "sha256:1", tag: "v1", mediaType: "x", size: 1 },
        1,
      ),
      ev(
        "manifest.pushed",
        "team/app",
        { digest: "sha256:2", tag: "dev", mediaType: "x", size: 1 },
        2,
      ),
      ev(
        "manifest.pushed",
        "team/app",
        { digest: "sha256:3", mediaType: "x", size: 1, subject: `sha256:${hex}` },
        3,
      ),
      ev(
        "manifest.pushed",
        "team/app",
        { digest: "sha256:4", tag: `sha256-${hex}.sig`, mediaType: "x", size: 1 },
        4,
      ),
      ev(
        "manifest.pushed",
        "other/app",
        { digest: "sha256:5", tag: "v1", mediaType: "x", size: 1 },
        5,
      ),
      ev("tag.deleted", "team/app", { tag: "v0" }, 6),
      ev("manifest.deleted", "team/app", { digest: "sha256:7", tags: ["v0.1"] }, 7),
    ];
    const r = rule({
      repositories: { include: ["team/**"] },
      tags: { include: ["v*"] },
      trigger: "event",
      destinationNamespace: "dr",
    });
    expect(tasksForEvents(r, events)).toEqual([
      {
        operation: "copy",
        sourceRepository: "team/app",
        reference: "v1",
        destinationRepository: "dr/app",
      },
      {
        operation: "referrers",
        sourceRepository: "team/app",
        reference: `sha256:${hex}`,
        destinationRepository: "dr/app",
      },
    ]);
    const withDeletion = { ...r, replicateDeletion: true };
    expect(
      tasksForEvents(withDeletion, events).map((t) => `${t.operation} ${t.reference}`),
    ).toEqual(["copy v1", `referrers sha256:${hex}`, "delete v0", "delete sha256:7"]);
    expect(isAttachmentTag(`sha256-${hex}.att`)).toBe(true);
    expect(isAttachmentTag(`sha256-${hex}`)).toBe(true);
    expect(isAttachmentTag("v1.sig")).toBe(false);
  });

  it("writes a platform-filtered index that lists only the chosen images", () => {
    const child = (arch: string) => ({
      mediaType: MediaType.OciManifest,
      digest: digestOf(Buffer.from(arch)),
      size: 10,
      platform: { os: "linux", architecture: arch },
    });
    const doc: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [child("amd64"), child("arm64"), child("s390x")],
      annotations: { a: "b" },
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    const top = { bytes, mediaType: MediaType.OciIndex, digest: digestOf(bytes) };
    const out = filteredIndex(top, doc, [doc.manifests[2]!, doc.manifests[0]!]);
    const parsed = JSON.parse(out.bytes.toString("utf8"));
    expect(
      parsed.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
    ).toEqual(["amd64", "s390x"]);
    expect(parsed.annotations).toEqual({ a: "b" });
    expect(out.digest).toBe(digestOf(out.bytes));
    expect(out.digest).not.toBe(top.digest);
  });

  it("paces bytes at the bandwidth limit", () => {
    const unlimited = new Bandwidth(0);
    expect(unlimited.take(1e9)).toBe(0);
    const b = new Bandwidth(1000);
    expect(b.take(1000)).toBe(0);
    const wait = b.take(500);
    expect(wait).toBeGreaterThan(400);
    expect(wait).toBeLessThanOrEqual(500);
  });
});
