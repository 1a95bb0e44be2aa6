// in-toto Statements (v1) about an image, and cosign's short names for predicate types
// (`--type slsaprovenance` …). Pure.
import { parseDigest } from "../oci/index.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
/** The predicate cosign 3 uses when `cosign sign` writes a bundle (a signature, no claims). */
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";

/** cosign's `--type` names and the predicate type URIs they stand for. */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: "https://slsa.dev/provenance/v0.2",
  slsaprovenance02: "https://slsa.dev/provenance/v0.2",
  slsaprovenance1: "https://slsa.dev/provenance/v1",
  link: "https://in-toto.io/Link/v1",
  spdx: "https://spdx.dev/Document",
  spdxjson: "https://spdx.dev/Document",
  cyclonedx: "https://cyclonedx.org/bom",
  vuln: "https://cosign.sigstore.dev/attestation/vuln/v1",
  openvex: "https://openvex.dev/ns",
  custom: "https://cosign.sigstore.dev/attestation/v1",
};

export class PredicateTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PredicateTypeError";
  }
}

/** `--type` value → predicate type URI: a known short name, or any absolute URI as is. */
export function predicateTypeFor(type: string): string {
  const known = PREDICATE_TYPES[type];
  if (known) return known;
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(type)) return type;
  throw new PredicateTypeError(
    `unknown predicate type "${type}" (use ${Object.keys(PREDICATE_TYPES).join(", ")} or a URI)`,
  );
}

export interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: Record<string, string> }>;
  predicateType: string;
  predicate: unknown;
}

export function buildStatement(
  subjectName: string,
  manifestDigest: string,
  predicateType: string,
  predicate: unknown,
): Statement {
  const d = parseDigest(manifestDigest);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: subjectName, digest: { [d.algorithm]: d.encoded } }],
    predicateType,
    predicate,
  };
}

/** The statement in a DSSE payload, if it is one (v0.1 and v1 statements both count). */
export function parseStatement(payload: Buffer): Statement | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  const s = doc as Partial<Statement>;
  if (typeof s?._type !== "string" || !s._type.startsWith("https://in-toto.io/Statement/"))
    return undefined;
  if (!Array.isArray(s.subject) || typeof s.predicateType !== "string") return undefined;
  return s as Statement;
}

/** Whether the statement's subject list names `manifestDigest`. */
export function statementCovers(statement: Statement, manifestDigest: string): boolean {
  const d = parseDigest(manifestDigest);
  return statement.subject.some((s) => s?.digest?.[d.algorithm] === d.encoded);
}
