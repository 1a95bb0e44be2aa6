// `berth build`'s progress on stderr. Plain (CI, logs, anything not a terminal): one line per
// finished step, BuildKit's plain style, RUN output indented. TTY (`--progress tty`, or `auto`
// on a terminal): a live view redrawn in place, one status line per step (running with its
// elapsed time and the last lines of its output, then DONE/CACHED with its duration), as
// BuildKit's TTY view does. The view is a pure function of the state (renderTty); the class
// only feeds it events and writes ANSI to the stream. Never writes to stdout.
import type { BuildEvent } from "../build/builder.js";

export interface BuildProgress {
  readonly handle: (event: BuildEvent) => void;
  line(text: string): void;
  /** Draws the final state (TTY) and stops redrawing. */
  finish(): void;
}

/** BuildKit-style plain progress: one line per step, RUN output indented. */
export class PlainProgress implements BuildProgress {
  private n = 0;
  private atLineStart = true;
  constructor(
    private readonly quiet: boolean,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  readonly handle = (event: BuildEvent): void => {
    if (this.quiet) return;
    if (event.kind === "step") {
      this.n++;
      const status = !event.layer
        ? ""
        : event.cached
          ? " CACHED"
          : ` DONE ${(event.ms / 1000).toFixed(1)}s`;
      this.line(`#${this.n} [${event.stage}] ${event.step}${status}`);
    } else if (event.kind === "pull") this.line(`pulled ${event.image} (${event.digest})`);
    else if (event.kind === "warning") this.line(`warning: ${event.message}`);
    else if (event.kind === "output") this.output(event.chunk.toString("utf8"));
  };

  /** A RUN step's output, each line prefixed so it stands apart from the step lines. */
  private output(text: string): void {
    let out = "";
    for (const c of text) {
      if (this.atLineStart) out += "  | ";
      out += c;
      this.atLineStart = c === "\n";
    }
    this.out.write(out);
  }

  line(text: string): void {
    if (!this.quiet) this.out.write(`${text}\n`);
  }

  finish(): void {}
}

export interface TtyStep {
  readonly label: string;
  readonly started: number;
  /** Set when the step ended. */
  ended?: number;
  cached?: boolean;
  layer?: boolean;
  /** The step's output so far (only the tail is shown). */
  output: string;
}

export interface TtyState {
  readonly started: number;
  readonly steps: TtyStep[];
  readonly notes: string[];
  done: boolean;
}

const OUTPUT_LINES = 6;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 3))}...` : text;
}

/** The lines of the live view at time `now`, each at most `width` characters. */
export function renderTty(state: TtyState, now: number, width: number): string[] {
  const running = state.steps.filter((s) => s.ended === undefined).length;
  const header = state.done
    ? `[+] Building ${seconds(now - state.started)} (${state.steps.length}/${state.steps.length}) FINISHED`
    : `[+] Building ${seconds(now - state.started)} (${state.steps.length - running}/${state.steps.length})`;
  const lines = [clip(header, width), ...state.notes.map((n) => clip(` => ${n}`, width))];
  state.steps.forEach((step, i) => {
    const status =
      step.ended === undefined
        ? seconds(now - step.started)
        : step.layer === false
          ? ""
          : step.cached
            ? "CACHED"
            : `DONE ${seconds(step.ended - step.started)}`;
    const left = ` => #${i + 1} ${step.label}`;
    const room = Math.max(10, width - status.length - 1);
    lines.push(status ? `${clip(left, room).padEnd(room)} ${status}` : clip(left, width));
    if (step.ended === undefined && step.output !== "") {
      const tail = step.output.replace(/\n$/, "").split("\n").slice(-OUTPUT_LINES);
      for (const l of tail) lines.push(clip(` => > ${l.replace(/\r/g, "")}`, width));
    }
  });
  return lines;
}

/** The progress `--progress` asks for: `auto` is tty on a terminal, plain elsewhere. */
export function progressFor(mode: string, json: boolean): BuildProgress {
  if (mode === "quiet" || (mode === "auto" && json)) return new PlainProgress(true);
  if (mode === "tty" || (mode === "auto" && process.stderr.isTTY)) return new TtyProgress();
  return new PlainProgress(false);
}

/** The live view: redrawn in place on every event and every 100 ms while steps run. */
export class TtyProgress implements BuildProgress {
  private readonly state: TtyState = { started: Date.now(), steps: [], notes: [], done: false };
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  private current(): TtyStep | undefined {
    const last = this.state.steps[this.state.steps.length - 1];
    return last && last.ended === undefined ? last : undefined;
  }

  readonly handle = (event: BuildEvent): void => {
    if (event.kind === "start") {
      this.state.steps.push({
        label: `[${event.stage}] ${event.step}`,
        started: Date.now(),
        output: "",
      });
    } else if (event.kind === "step") {
      const step = this.current();
      if (step) {
        step.ended = Date.now();
        step.cached = event.cached;
        step.layer = event.layer;
      }
    } else if (event.kind === "output") {
      const step = this.current();
      if (step) step.output = (step.output + event.chunk.toString("utf8")).slice(-8192);
    } else if (event.kind === "pull") this.state.notes.push(`pulled ${event.image}`);
    else this.state.notes.push(`warning: ${event.message}`);
    this.draw();
  };

  private draw(): void {
    const width = Math.max(40, this.out.columns || 100);
    const lines = renderTty(this.state, Date.now(), width);
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
    for (const l of lines) text += `\x1b[2K${l}\n`;
    // Lines left over from a taller previous frame (a step's output collapsed).
    for (let i = lines.length; i < this.drawn; i++) text += "\x1b[2K\n";
    if (this.drawn > lines.length) text += `\x1b[${this.drawn - lines.length}F`;
    this.out.write(text);
    this.drawn = lines.length;
  }

  line(text: string): void {
    this.state.notes.push(text);
    this.draw();
  }

  finish(): void {
    clearInterval(this.timer);
    for (const step of this.state.steps) step.ended ??= Date.now();
    this.state.done = true;
    this.draw();
  }
}
