// The operator's log: one pino logger per server process, writing one format to stdout —
// JSON lines (`log.format: json`, for collectors) or pino-pretty's human lines
// (`log.format: pretty`); `auto` picks pretty when stdout is a terminal, JSON otherwise.
// Every line the server writes about itself (listening, draining, stopped) is a record of
// this logger, so a stream never mixes formats.
//
// Lines are written asynchronously in batches (at most 4 KiB are held), and whatever is
// held is flushed at least every second and when the process exits, so a request's line is
// never more than about a second late and none is lost on SIGTERM. It must never log request
// headers or secrets (callers pass only what may be shown).
import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogFormat, LogLevel } from "../config/config.js";

/** The longest a written line may wait in the buffer before it reaches stdout. */
export const LOG_FLUSH_INTERVAL_MS = 1000;

const requireOnDemand = createRequire(import.meta.url);

/** `auto` resolved against the stream the log goes to. */
export function resolveLogFormat(format: LogFormat, isTty: boolean): "json" | "pretty" {
  if (format === "auto") return isTty ? "pretty" : "json";
  return format;
}

export function createLogger(level: LogLevel, format: LogFormat = "json"): Logger {
  const resolved = resolveLogFormat(format, process.stdout.isTTY === true);
  const options = { level, timestamp: pino.stdTimeFunctions.isoTime, base: undefined };
  if (resolved === "pretty") return pino(options, prettyStream());
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  let pending = false;
  const logger = pino(
    {
      ...options,
      hooks: {
        streamWrite(line: string) {
          pending = true;
          return line;
        },
      },
    },
    destination,
  );
  const timer = setInterval(() => {
    if (!pending) return;
    pending = false;
    destination.flush();
  }, LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  destination.on("close", () => clearInterval(timer));
  return logger;
}

/** pino-pretty (loaded only when chosen), writing to stdout without holding lines back. */
function prettyStream(): DestinationStream {
  const pretty = requireOnDemand("pino-pretty") as typeof import("pino-pretty");
  return pretty.build({
    destination: 1,
    sync: false,
    colorize: process.stdout.isTTY === true && !process.env.NO_COLOR,
    translateTime: "SYS:standard",
    ignore: "pid,hostname",
  });
}
