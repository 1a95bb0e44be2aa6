// The one signature evaluator: given what was found attached to an image (payload bytes and
// their annotations, in any of cosign's formats), the image digest and the trusted keys,
// return a verdict per signature with its reason. Used alike by `berth verify`,
// `berth verify-attestation` and the registry's trust policy (src/policy/trust.ts). Pure:
// no registry access, no clock, no logging.
import type { KeyObject } from "node:crypto";
import { type CandidateLayer, SIGNATURE_ANNOTATION } from "./attached.js";
import { BundleError, parseBundle } from "./bundle.js";
import { verifyBytes } from "./crypto.js";
import {
  type DsseEnvelope,
  envelopeVerifies,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
} from "./dsse.js";
import {
  COSIGN_SIGN_PREDICATE,
  parseStatement,
  type Statement,
  statementCovers,
} from "./in-toto.js";
import { keyFingerprint } from "./keys.js";
import { annotationsMatch, PayloadError, parseSimpleSigningPayload } from "./simple-signing.js";

export interface TrustedKey {
  fingerprint: string;
  key: KeyObject;
}

export function trustedKey(key: KeyObject): TrustedKey {
  return { fingerprint: keyFingerprint(key), key };
}

/** A candidate layer together with its bytes. */
export interface SignatureEvidence extends CandidateLayer {
  bytes: Buffer;
}

export interface SignatureVerdict {
  kind: "signature" | "attestation";
  format: CandidateLayer["format"];
  scheme: CandidateLayer["scheme"];
  /** The attached manifest and the layer the signature came from. */
  manifestDigest: string;
  layerDigest: string;
  verified: boolean;
  /** Fingerprint of the trusted key that verified it (when verified). */
  keyFingerprint?: string;
  /** Why it did or did not verify, one sentence. */
  reason: string;
  /** The simple-signing payload's `optional` map, or the statement's predicate type. */
  annotations: Record<string, unknown>;
  predicateType?: string;
  statement?: Statement;
}

export interface VerifyRequest {
  /** The image digest signatures must vouch for. */
  digest: string;
  keys: TrustedKey[];
  /** `-a key=value` annotations every accepted signature must carry. */
  annotations?: Record<string, string>;
}

export function evaluateSignatures(
  evidence: SignatureEvidence[],
  request: VerifyRequest,
): SignatureVerdict[] {
  return evidence.map((e) => evaluateOne(e, request));
}

/** The verified signatures (kind "signature") among the verdicts. */
export function validSignatures(verdicts: SignatureVerdict[]): SignatureVerdict[] {
  return verdicts.filter((v) => v.kind === "signature" && v.verified);
}

function base(e: SignatureEvidence, kind: SignatureVerdict["kind"]): SignatureVerdict {
  return {
    kind,
    format: e.format,
    scheme: e.scheme,
    manifestDigest: e.manifestDigest,
    layerDigest: e.descriptor.digest,
    verified: false,
    reason: "",
    annotations: {},
  };
}

function evaluateOne(e: SignatureEvidence, request: VerifyRequest): SignatureVerdict {
  if (e.format === "simplesigning") return evaluateSimpleSigning(e, request);
  if (e.format === "dsse") {
    const envelope = parseEnvelopeBytes(e.bytes);
    if (!envelope) return { ...base(e, "attestation"), reason: "the layer is not a DSSE envelope" };
    return evaluateEnvelope(e, envelope, request);
  }
  let bundle: ReturnType<typeof parseBundle>;
  try {
    bundle = parseBundle(e.bytes);
  } catch (err) {
    const reason = err instanceof BundleError ? err.message : "the bundle could not be read";
    return { ...base(e, "signature"), reason };
  }
  if (!bundle.envelope) {
    return {
      ...base(e, "signature"),
      reason: "message-signature bundles of images are not supported; sign with a DSSE bundle",
    };
  }
  return evaluateEnvelope(e, bundle.envelope, request);
}

function evaluateSimpleSigning(e: SignatureEvidence, request: VerifyRequest): SignatureVerdict {
  const verdict = base(e, "signature");
  const sig = e.descriptor.annotations?.[SIGNATURE_ANNOTATION];
  if (!sig) return { ...verdict, reason: `the layer has no ${SIGNATURE_ANNOTATION} annotation` };
  let payload: ReturnType<typeof parseSimpleSigningPayload>;
  try {
    payload = parseSimpleSigningPayload(e.bytes);
  } catch (err) {
    return { ...verdict, reason: err instanceof PayloadError ? err.message : "unreadable payload" };
  }
  verdict.annotations = payload.optional;
  if (payload.manifestDigest !== request.digest) {
    return {
      ...verdict,
      reason: `the payload vouches for ${payload.manifestDigest}, not ${request.digest}`,
    };
  }
  const key = request.keys.find((k) => verifyBytes(k.key, e.bytes, Buffer.from(sig, "base64")));
  if (!key) return { ...verdict, reason: "no trusted key verifies the signature" };
  if (!annotationsMatch(payload.optional, request.annotations ?? {})) {
    return {
      ...verdict,
      keyFingerprint: key.fingerprint,
      reason: "the signature lacks the required annotations",
    };
  }
  return { ...verdict, verified: true, keyFingerprint: key.fingerprint, reason: "verified" };
}

function evaluateEnvelope(
  e: SignatureEvidence,
  envelope: DsseEnvelope,
  request: VerifyRequest,
): SignatureVerdict {
  const statement =
    envelope.payloadType === IN_TOTO_PAYLOAD_TYPE
      ? parseStatement(Buffer.from(envelope.payload, "base64"))
      : undefined;
  const kind =
    statement === undefined || statement.predicateType === COSIGN_SIGN_PREDICATE
      ? "signature"
      : "attestation";
  const verdict: SignatureVerdict = { ...base(e, kind), statement };
  if (!statement) return { ...verdict, reason: "the envelope holds no in-toto statement" };
  verdict.predicateType = statement.predicateType;
  verdict.annotations = predicateAnnotations(statement);
  if (!statementCovers(statement, request.digest)) {
    return { ...verdict, reason: `the statement's subject does not name ${request.digest}` };
  }
  const key = request.keys.find((k) => envelopeVerifies(envelope, k.key));
  if (!key) return { ...verdict, reason: "no trusted key verifies the envelope" };
  if (kind === "signature" && !annotationsMatch(verdict.annotations, request.annotations ?? {})) {
    return {
      ...verdict,
      keyFingerprint: key.fingerprint,
      reason: "the signature lacks the required annotations",
    };
  }
  return { ...verdict, verified: true, keyFingerprint: key.fingerprint, reason: "verified" };
}

/** Signing annotations (`-a k=v`) carried by a bundle signature's predicate. */
function predicateAnnotations(statement: Statement): Record<string, unknown> {
  const p = statement.predicate as { annotations?: unknown } | null;
  return p && typeof p.annotations === "object" && p.annotations !== null
    ? (p.annotations as Record<string, unknown>)
    : {};
}

function parseEnvelopeBytes(bytes: Buffer): DsseEnvelope | undefined {
  try {
    return parseEnvelope(JSON.parse(bytes.toString("utf8")));
  } catch {
    return undefined;
  }
}
