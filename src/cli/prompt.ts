// Asking the person at the terminal: a visible or hidden (password) prompt on stderr, so
// stdout stays clean for scripts. Callers check `process.stdin.isTTY` first and fail with a
// usage error naming the non-interactive alternative. Never echoes a hidden answer.
import { createInterface } from "node:readline";

export function prompt(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      const output = rl as unknown as { _writeToOutput: (s: string) => void };
      output._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stderr.write(question);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write("\n");
      resolve(answer);
    });
  });
}
