// A one-line progress indicator on stderr for scan/sbom/db commands: shown only on a TTY
// (never pollutes pipes or CI logs), erased when the work is done.
export interface Progress {
  update(message: string): void;
  done(): void;
}

export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let shown = false;
  return {
    update(message) {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r\x1b[2K${message.slice(0, width)}`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
