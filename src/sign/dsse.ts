// DSSE (Dead Simple Signing Envelope) as in-toto and cosign use it: the signature is over the
// pre-authentication encoding PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP
// body, lengths in ASCII decimal bytes. Pure.
import type { KeyObject } from "node:crypto";
import { signBytes, verifyBytes } from "./crypto.js";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
  keyid: string;
  /** base64 */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** base64 */
  payload: string;
  signatures: DsseSignature[];
}

export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${payload.length} `, "utf8"),
    payload,
  ]);
}

export function signEnvelope(key: KeyObject, payloadType: string, payload: Buffer): DsseEnvelope {
  const sig = signBytes(key, preAuthEncoding(payloadType, payload));
  return {
    payloadType,
    payload: payload.toString("base64"),
    signatures: [{ keyid: "", sig: sig.toString("base64") }],
  };
}

/** True when any of the envelope's signatures verifies with `key`. */
export function envelopeVerifies(envelope: DsseEnvelope, key: KeyObject): boolean {
  const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, "base64"));
  return envelope.signatures.some((s) => verifyBytes(key, pae, Buffer.from(s.sig, "base64")));
}

export function parseEnvelope(value: unknown): DsseEnvelope | undefined {
  const e = value as Partial<DsseEnvelope> | undefined;
  if (
    typeof e?.payloadType !== "string" ||
    typeof e.payload !== "string" ||
    !Array.isArray(e.signatures)
  ) {
    return undefined;
  }
  const signatures = e.signatures.filter(
    (s): s is DsseSignature => typeof (s as DsseSignature)?.sig === "string",
  );
  return {
    payloadType: e.payloadType,
    payload: e.payload,
    signatures: signatures.map((s) => ({ keyid: s.keyid ?? "", sig: s.sig })),
  };
}
