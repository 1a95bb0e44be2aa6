// QuotaReservations: the per-project serialization and in-flight byte accounting behind
// quota enforcement under concurrent pushes (the HTTP proof is in registry-auth.test.ts).
import { describe, expect, it } from "vitest";
import { QuotaReservations } from "../../src/policy/quotas.js";

describe("QuotaReservations", () => {
  it("runs checks of one project one at a time, in order, and other projects alongside", async () => {
    const r = new QuotaReservations();
    const log: string[] = [];
    const slow = (tag: string, ms: number) => async () => {
      log.push(`${tag}:start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`${tag}:end`);
      return tag;
    };
    const results = await Promise.all([
      r.exclusive("p", slow("a", 30)),
      r.exclusive("p", slow("b", 1)),
      r.exclusive("q", slow("c", 1)),
    ]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log.indexOf("a:end")).toBeLessThan(log.indexOf("b:start"));
    expect(log.indexOf("c:end")).toBeLessThan(log.indexOf("a:end"));
  });

  it("keeps serializing after a check throws", async () => {
    const r = new QuotaReservations();
    await expect(
      r.exclusive("p", async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(await r.exclusive("p", async () => "next")).toBe("next");
  });

  it("counts a digest once, releases one holder per commit, and lets stale ones lapse", () => {
    let now = 1000;
    const r = new QuotaReservations(500, () => now);
    r.reserve("p", "sha256:a", 100);
    r.reserve("p", "sha256:a", 100);
    r.reserve("p", "sha256:b", 50);
    expect([...r.pending("p")]).toEqual([
      ["sha256:a", 100],
      ["sha256:b", 50],
    ]);
    r.release("p", "sha256:a");
    expect(r.has("p", "sha256:a")).toBe(true);
    r.release("p", "sha256:a");
    expect(r.has("p", "sha256:a")).toBe(false);
    r.forget("p", "sha256:b");
    expect(r.pending("p").size).toBe(0);
    r.reserve("p", "sha256:c", 10);
    now += 499;
    expect(r.has("p", "sha256:c")).toBe(true);
    now += 2;
    expect(r.has("p", "sha256:c")).toBe(false);
    expect(r.pending("other").size).toBe(0);
  });
});
