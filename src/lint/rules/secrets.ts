// Rules about secrets in ENV and ARG (BL4001, BL4002): both end up readable in the image
// config or its history. A name that says "secret" is a warning; a value that looks like a
// real credential (cloud keys, tokens, private keys, passwords in URLs) is an error.
import type { Check } from "./context.js";

const SECRET_WORDS = new Set([
  "PASSWORD",
  "PASSWD",
  "TOKEN",
  "SECRET",
  "CREDENTIAL",
  "CREDENTIALS",
  "APIKEY",
]);
const HARMLESS_WORDS = new Set(["PUBLIC", "GPG", "FILE", "PATH", "DIR", "URL", "FINGERPRINT"]);

/** True for names such as DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, API_KEY. */
export function secretName(name: string): boolean {
  const words = name
    .toUpperCase()
    .split(/[_\-.]/)
    .filter((w) => w !== "");
  if (words.some((w) => HARMLESS_WORDS.has(w))) return false;
  return words.some((w) => SECRET_WORDS.has(w)) || words[words.length - 1] === "KEY";
}

const CREDENTIAL_PATTERNS: readonly [RegExp, string][] = [
  [/AKIA[0-9A-Z]{16}/, "an AWS access key"],
  [/\bgh[pousr]_[A-Za-z0-9]{36}\b|github_pat_[A-Za-z0-9_]{22,}/, "a GitHub token"],
  [/glpat-[A-Za-z0-9_-]{20}/, "a GitLab token"],
  [/xox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/\bsk_live_[A-Za-z0-9]{16,}/, "a Stripe secret key"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/AIza[0-9A-Za-z_-]{35}/, "a Google API key"],
  [/[a-z][a-z0-9+.-]*:\/\/[^\s:/@$]+:[^\s@/$]+@/i, "a URL with a password"],
];

const secrets: Check = (ctx) => {
  for (const info of ctx.model.instructions) {
    if (info.keyword !== "ENV" && info.keyword !== "ARG") continue;
    for (const p of info.properties) {
      const span = p.span;
      const credential =
        p.value === null ? undefined : CREDENTIAL_PATTERNS.find(([re]) => re.test(p.value ?? ""));
      if (credential !== undefined) {
        ctx.report(
          "BL4002",
          span,
          `${info.keyword} ${p.name} holds what looks like ${credential[1]}; it is stored in the image for anyone who pulls it. Revoke it, and pass secrets with RUN --mount=type=secret instead.`,
        );
      } else if (secretName(p.name)) {
        ctx.report(
          "BL4001",
          span,
          `${info.keyword} ${p.name} looks like a secret, and ${info.keyword} values are kept in the image ${info.keyword === "ENV" ? "config" : "history"}; pass it with RUN --mount=type=secret,id=${p.name.toLowerCase()} (or at run time) instead.`,
        );
      }
    }
  }
};

export const secretChecks: readonly Check[] = [secrets];
