// Shared CLI output: `--format` option, JSON/text/table printing to stdout, human sizes, and
// per-blob transfer progress bars (cli-progress) on stderr when it is a TTY — quiet on a pipe
// so scripts read clean stdout. Any command may reuse it. Never prints secrets.
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { Option } from "commander";
import type { CopyEvent } from "../transport/copy.js";

export type OutputFormat = "text" | "json";

export function formatOption(choices: string[] = ["text", "json"]): Option {
  return new Option("--format <format>", "output format").choices(choices).default("text");
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: Iterable<string>): void {
  let out = "";
  for (const line of lines) out += `${line}\n`;
  process.stdout.write(out);
}

/** Left-aligned columns separated by two spaces. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function humanSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return digest.slice(colon + 1, colon + 13);
}

/**
 * Progress for blob transfers: one bar per blob on a TTY; on a pipe, nothing (or one line
 * per finished blob with `verbose`). Feed it CopyEvents; call `stop()` when done.
 */
export class TransferProgress {
  private readonly multibar: MultiBar | undefined;
  private readonly bars = new Map<string, SingleBar>();

  constructor(options: { quiet?: boolean } = {}) {
    const tty = process.stderr.isTTY === true && !options.quiet;
    this.multibar = tty
      ? new MultiBar(
          {
            stream: process.stderr,
            format: " {digest} [{bar}] {percentage}% {done}/{size} {status}",
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            autopadding: true,
          },
          Presets.shades_classic,
        )
      : undefined;
  }

  readonly handle = (event: CopyEvent): void => {
    if (!this.multibar || event.kind === "manifest") return;
    const { descriptor } = event;
    const payload = (done: number, status: string) => ({
      digest: shortDigest(descriptor.digest),
      done: humanSize(done),
      size: humanSize(descriptor.size),
      status,
    });
    let bar = this.bars.get(descriptor.digest);
    if (!bar) {
      bar = this.multibar.create(Math.max(1, descriptor.size), 0, payload(0, ""));
      this.bars.set(descriptor.digest, bar);
    }
    if (event.kind === "blob-skipped")
      bar.update(Math.max(1, descriptor.size), payload(descriptor.size, "exists"));
    if (event.kind === "blob-progress") bar.update(event.bytes, payload(event.bytes, ""));
    if (event.kind === "blob-retry") bar.update(payload(0, `retry ${event.attempt}`));
    if (event.kind === "blob-done")
      bar.update(Math.max(1, descriptor.size), payload(descriptor.size, "done"));
  };

  private stopped = false;

  /** Ends the bars (idempotent). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multibar?.stop();
  }
}
