// The trust policy verdict (Harbor's "content trust", done with key verification): given a
// project's mode and trusted keys, what is being pulled, and which digests carry a valid
// signature by one of those keys (decided by sign/verify.ts, the one signature evaluator),
// decide whether the pull may proceed. Pure: no I/O, no clock.
//   - off: always allowed.
//   - report: always allowed; an unsigned image is reported.
//   - enforce: an unsigned image is refused. Attachments (signatures, attestations, SBOMs)
//     are never gated, so verifiers can fetch them. An index counts as signed when the index
//     itself is signed or, as with `berth sign --recursive`, every manifest it lists is.
import type { TrustMode } from "../meta/trust-policies.js";

export interface TrustSubject {
  digest: string;
  /** Signatures, attestations, SBOMs and other referrers. */
  isAttachment: boolean;
  /** For an index: the digests it lists. */
  children: string[];
}

export interface TrustDecision {
  allow: boolean;
  signed: boolean;
  /** One sentence for the client (DENIED message) and the audit log. */
  reason: string;
}

export function decideTrust(
  project: string,
  mode: TrustMode,
  subject: TrustSubject,
  isSigned: (digest: string) => boolean,
): TrustDecision {
  if (mode === "off") return { allow: true, signed: false, reason: "trust policy off" };
  if (subject.isAttachment)
    return { allow: true, signed: false, reason: "attachments are not gated" };
  const signed =
    isSigned(subject.digest) || (subject.children.length > 0 && subject.children.every(isSigned));
  if (signed) return { allow: true, signed, reason: "signed by a trusted key" };
  const reason = `the trust policy of project "${project}" requires a valid signature by one of its trusted keys, and ${subject.digest} has none`;
  return { allow: mode !== "enforce", signed, reason };
}
