// The /metrics body is valid Prometheus text even when prom-client has a NaN to report (the
// event-loop lag mean of a process that has not sampled yet is written `Nan` by prom-client).
import { describe, expect, it } from "vitest";
import { canonicalSpecialValues } from "../../src/metrics/endpoint.js";
import { registry } from "../../src/metrics/registry.js";
import { parsePrometheusText } from "../support/prometheus-text.js";

describe("metrics exposition", () => {
  it("spells NaN the way the exposition format does", () => {
    const raw = "# HELP x_seconds x\n# TYPE x_seconds gauge\nx_seconds Nan\ny_total 1\n";
    expect(() => parsePrometheusText(raw)).toThrow(/bad value/);
    const fixed = canonicalSpecialValues(raw);
    expect(fixed).toContain("x_seconds NaN\n");
    expect(canonicalSpecialValues('z{a="Nan"} 2\n')).toBe('z{a="Nan"} 2\n');
  });

  it("the registry's output of a fresh process parses strictly", async () => {
    const families = parsePrometheusText(canonicalSpecialValues(await registry.metrics()));
    expect(families.has("berth_http_requests_total")).toBe(true);
    expect(families.has("berth_nodejs_eventloop_lag_mean_seconds")).toBe(true);
  });
});
