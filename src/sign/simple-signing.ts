// cosign's "simple signing" payload (the legacy `.sig` scheme): the JSON document whose bytes
// are signed, naming the image digest it vouches for. Pure.
//   {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
//    "type":"cosign container image signature"},"optional":{…annotations}}

export const SIMPLE_SIGNING_TYPE = "cosign container image signature";

export interface SimpleSigningPayload {
  dockerReference: string;
  manifestDigest: string;
  /** The `optional` map: cosign's `-a key=value` annotations. */
  optional: Record<string, unknown>;
}

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

export function buildSimpleSigningPayload(
  dockerReference: string,
  manifestDigest: string,
  annotations: Record<string, string>,
): Buffer {
  const doc = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": manifestDigest },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional: Object.keys(annotations).length > 0 ? annotations : null,
  };
  return Buffer.from(JSON.stringify(doc), "utf8");
}

export function parseSimpleSigningPayload(bytes: Buffer): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new PayloadError("the signed payload is not JSON");
  }
  const critical = (doc as { critical?: Record<string, unknown> })?.critical;
  const identity = critical?.identity as { "docker-reference"?: unknown } | undefined;
  const image = critical?.image as { "docker-manifest-digest"?: unknown } | undefined;
  if (critical?.type !== SIMPLE_SIGNING_TYPE) {
    throw new PayloadError(`the payload's critical.type is not "${SIMPLE_SIGNING_TYPE}"`);
  }
  if (typeof image?.["docker-manifest-digest"] !== "string") {
    throw new PayloadError("the payload names no critical.image.docker-manifest-digest");
  }
  const optional = (doc as { optional?: unknown }).optional;
  return {
    dockerReference:
      typeof identity?.["docker-reference"] === "string" ? identity["docker-reference"] : "",
    manifestDigest: image["docker-manifest-digest"],
    optional: optional && typeof optional === "object" ? (optional as Record<string, unknown>) : {},
  };
}

/** Whether every `-a key=value` the verifier asks for is in the payload's optional map. */
export function annotationsMatch(
  optional: Record<string, unknown>,
  required: Record<string, string>,
): boolean {
  return Object.entries(required).every(([k, v]) => optional[k] === v);
}
