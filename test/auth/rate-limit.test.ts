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

  it("locks an account tried from many addresses, doubling the lock each time", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 5; i++) t.failure("carol", `10.0.1.${i}`);
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(60_000);
    expect(t.blockedFor("dave", "10.0.1.1")).toBe(0);
    now += 60_000;
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(0);
    for (let i = 0; i < 5; i++) t.failure("carol", "10.0.2.1");
    expect(t.blockedFor("carol", "10.9.9.9")).toBe(120_000);
  });

  it("forgets failures outside the window and after a success", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 4; i++) t.failure("erin", "10.0.3.1");
    now += 5 * 60_000;
    t.failure("erin", "10.0.3.1");
    expect(t.blockedFor("erin", "10.0.3.2")).toBe(0);
    for (let i = 0; i < 3; i++) t.failure("erin", "10.0.3.1");
    t.success("erin");
    t.failure("erin", "10.0.3.1");
    expect(t.blockedFor("erin", "10.0.3.2")).toBe(0);
  });
});
