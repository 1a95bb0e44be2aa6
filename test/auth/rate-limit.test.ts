// The failed-login throttle, per account and per source address, on a controlled clock
// (the HTTP behaviour — 429 with Retry-After, audit of failures — is in token-endpoint.test.ts).
import { describe, expect, it } from "vitest";
import { LoginThrottle } from "../../src/auth/rate-limit.js";

describe("LoginThrottle", () => {
  it("locks one source address that fails for many accounts, and only that address", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    // 20 failures from one address, spread over 20 accounts (no account reaches its limit).
    for (let i = 0; i < 19; i++) t.failure(`user${i}`, "10.0.0.9");
    expect(t.blockedFor("someone", "10.0.0.9")).toBe(0);
    t.failure("user19", "10.0.0.9");
    expect(t.blockedFor("someone", "10.0.0.9")).toBe(60_000);
    expect(t.blockedFor("someone", "10.0.0.10")).toBe(0);
    expect(t.blockedFor("user3", "10.0.0.10")).toBe(0);
    now += 60_001;
    expect(t.blockedFor("someone", "10.0.0.9")).toBe(0);
  });

  it("locks one (account, address) pair after 5 failures, doubling the lock each time", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 5; i++) t.failure("carol", "10.0.1.1");
    expect(t.blockedFor("carol", "10.0.1.1")).toBe(60_000);
    // Not a denial of service: carol from elsewhere, and others from that address, go on.
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(0);
    expect(t.blockedFor("dave", "10.0.1.1")).toBe(0);
    now += 60_000;
    expect(t.blockedFor("carol", "10.0.1.1")).toBe(0);
    for (let i = 0; i < 5; i++) t.failure("carol", "10.0.1.1");
    expect(t.blockedFor("carol", "10.0.1.1")).toBe(120_000);
  });

  it("locks an account guessed from many addresses, except from addresses it signed in from", () => {
    const now = 0;
    const t = new LoginThrottle(() => now);
    t.success("carol", "192.0.2.7");
    for (let i = 0; i < 49; i++) t.failure("carol", `10.1.${Math.floor(i / 4)}.${i % 4}`);
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(0);
    t.failure("carol", "10.2.0.1");
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(60_000);
    expect(t.blockedFor("carol", "192.0.2.7")).toBe(0);
    expect(t.blockedFor("dave", "10.9.9.9")).toBe(0);
  });

  it("never locks a robot for wrong secrets; limits the source address instead", () => {
    const now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 19; i++) t.failure("robot$team+ci", "10.0.4.1", true);
    expect(t.blockedFor("robot$team+ci", "10.0.4.2", true)).toBe(0);
    expect(t.blockedFor("robot$team+ci", "10.0.4.1", true)).toBe(0);
    t.failure("robot$team+ci", "10.0.4.1", true);
    expect(t.blockedFor("robot$team+ci", "10.0.4.1", true)).toBe(60_000);
    expect(t.blockedFor("robot$team+ci", "10.0.4.2", true)).toBe(0);
    for (let i = 0; i < 100; i++) t.failure("robot$team+ci", `10.0.5.${i}`, true);
    expect(t.blockedFor("robot$team+ci", "10.0.6.1", true)).toBe(0);
  });

  it("forgets failures outside the window and after a success", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 4; i++) t.failure("erin", "10.0.3.1");
    now += 5 * 60_000;
    t.failure("erin", "10.0.3.1");
    expect(t.blockedFor("erin", "10.0.3.2")).toBe(0);
    for (let i = 0; i < 3; i++) t.failure("erin", "10.0.3.1");
    t.success("erin", "10.0.3.1");
    t.failure("erin", "10.0.3.1");
    expect(t.blockedFor("erin", "10.0.3.2")).toBe(0);
  });
});
