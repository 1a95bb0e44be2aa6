// What a benchmark scenario is: fixtures prepared once, optional per-server set-up, and a
// measured run that returns named metrics. The runner (run.ts) alternates servers and
// rounds and summarises; scenarios never compare servers themselves.
import type { BenchServer } from "./servers.js";

export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly value: number;
}

export interface BenchContext {
  /** Scratch space for fixtures (bench/.work), on the same disk as the servers' data. */
  readonly workDir: string;
  /** Extra environment Berth is started with (empty unless `--berth-env` was given). */
  readonly berthEnv: Record<string, string>;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Start each server afresh for every round (pushes must not find earlier blobs). */
  readonly freshServerPerRound?: boolean;
  prepare(ctx: BenchContext): Promise<void>;
  setup?(server: BenchServer, ctx: BenchContext): Promise<void>;
  run(server: BenchServer, ctx: BenchContext, round: number): Promise<Metric[]>;
}

export const MB = 1e6;
export const MiB = 1 << 20;

export function metric(name: string, unit: string, value: number, higherIsBetter: boolean): Metric {
  return { name, unit, value, higherIsBetter };
}

/** Times an async action in seconds. */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
