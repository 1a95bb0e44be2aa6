// Signing, attesting and verifying images in a registry: resolves the reference to a digest
// (a tag is resolved first; the digest is what gets signed), builds the payload in the chosen
// cosign format, signs it with the key, and publishes it with ./publish.ts; verification
// gathers what ./discover.ts finds and hands it to the one evaluator in ./verify.ts.
// Never signs a tag, never prints or stores key material.
import type { KeyObject } from "node:crypto";
import type { RegistryClient } from "../client/registry-client.js";
import { type Descriptor, type ImageReference, parseManifest } from "../oci/index.js";
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_ANNOTATION,
  blobOf,
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  DSSE_MEDIA_TYPE,
  PREDICATE_TYPE_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "./attached.js";
import { BUNDLE_V03_MEDIA_TYPE, buildDsseBundle } from "./bundle.js";
import { clientAttachmentReader } from "./client-reader.js";
import { signBytes } from "./crypto.js";
import { discoverSignatures } from "./discover.js";
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from "./dsse.js";
import { buildStatement, COSIGN_SIGN_PREDICATE } from "./in-toto.js";
import { keyFingerprint } from "./keys.js";
import { attachAsReferrer, attachByTag, type Published } from "./publish.js";
import { buildSimpleSigningPayload } from "./simple-signing.js";
import {
  evaluateSignatures,
  type SignatureVerdict,
  type TrustedKey,
  trustedKey,
} from "./verify.js";

/** Where signatures go: cosign's tag scheme (`legacy`) or OCI 1.1 referrers (`oci-1-1`). */
export type ReferrersMode = "legacy" | "oci-1-1";

export interface SignOptions {
  annotations: Record<string, string>;
  /** Sigstore bundle (cosign 3's default) instead of the simple-signing payload. */
  bundle: boolean;
  referrersMode: ReferrersMode;
  /** Also sign every manifest an index lists. */
  recursive: boolean;
}

export interface SignResult {
  digest: string;
  format: "simplesigning" | "bundle";
  stored: Published;
}

/**
 * The subject's descriptor (digest, media type, size), by HEAD: a trust policy never gates
 * HEAD, so images of an enforcing project can still be signed and verified. With
 * `withChildren`, the index is read (GET) for the manifests it lists.
 */
export async function resolveSubject(
  client: RegistryClient,
  ref: ImageReference,
  withChildren = false,
): Promise<{ descriptor: Descriptor; children: Descriptor[] }> {
  const reference = ref.digest ?? ref.tag ?? "latest";
  const head = withChildren ? undefined : await client.headManifest(ref.repository, reference);
  if (head) {
    return {
      descriptor: { mediaType: head.mediaType, digest: head.digest, size: head.size },
      children: [],
    };
  }
  const m = await client.getManifest(ref.repository, reference);
  const parsed = parseManifest(m.bytes, m.mediaType);
  return {
    descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length },
    children: parsed.kind === "index" ? parsed.index.manifests : [],
  };
}

/** `registry/repository`: the identity cosign writes into signatures. */
export function dockerReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

export async function signImage(
  client: RegistryClient,
  ref: ImageReference,
  key: KeyObject,
  options: SignOptions,
): Promise<SignResult[]> {
  const { descriptor, children } = await resolveSubject(client, ref, options.recursive);
  const subjects = options.recursive ? [descriptor, ...children] : [descriptor];
  const results: SignResult[] = [];
  for (const subject of subjects) {
    results.push(await signOne(client, ref, subject, key, options));
  }
  return results;
}

async function signOne(
  client: RegistryClient,
  ref: ImageReference,
  subject: Descriptor,
  key: KeyObject,
  options: SignOptions,
): Promise<SignResult> {
  if (options.bundle) {
    const predicate = Object.keys(options.annotations).length
      ? { annotations: options.annotations }
      : {};
    const statement = buildStatement(
      dockerReference(ref),
      subject.digest,
      COSIGN_SIGN_PREDICATE,
      predicate,
    );
    const stored = await publishBundle(
      client,
      ref,
      subject,
      key,
      statement.predicateType,
      Buffer.from(JSON.stringify(statement)),
    );
    return { digest: subject.digest, format: "bundle", stored };
  }
  const payload = buildSimpleSigningPayload(
    dockerReference(ref),
    subject.digest,
    options.annotations,
  );
  const signature = signBytes(key, payload).toString("base64");
  const layer = blobOf(payload, SIMPLE_SIGNING_MEDIA_TYPE, { [SIGNATURE_ANNOTATION]: signature });
  const stored =
    options.referrersMode === "oci-1-1"
      ? await attachAsReferrer(client, ref.repository, subject, COSIGN_SIGNATURE_ARTIFACT_TYPE, [
          layer,
        ])
      : await attachByTag(client, ref.repository, subject.digest, "sig", layer);
  return { digest: subject.digest, format: "simplesigning", stored };
}

async function publishBundle(
  client: RegistryClient,
  ref: ImageReference,
  subject: Descriptor,
  key: KeyObject,
  predicateType: string,
  statementBytes: Buffer,
): Promise<Published> {
  const envelope = signEnvelope(key, IN_TOTO_PAYLOAD_TYPE, statementBytes);
  const bundleBytes = buildDsseBundle(envelope, keyFingerprint(key));
  const layer = blobOf(bundleBytes, BUNDLE_V03_MEDIA_TYPE);
  const title = `${layer.descriptor.digest.replace(":", "-")}.sigstore.json`;
  layer.descriptor.annotations = { "org.opencontainers.image.title": title };
  return attachAsReferrer(client, ref.repository, subject, BUNDLE_V03_MEDIA_TYPE, [layer], {
    [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
    [BUNDLE_PREDICATE_ANNOTATION]: predicateType,
    "org.opencontainers.image.created": new Date().toISOString(),
  });
}

export interface AttestOptions {
  predicateType: string;
  predicate: unknown;
  bundle: boolean;
  referrersMode: ReferrersMode;
}

export async function attestImage(
  client: RegistryClient,
  ref: ImageReference,
  key: KeyObject,
  options: AttestOptions,
): Promise<SignResult> {
  const { descriptor } = await resolveSubject(client, ref);
  const statement = buildStatement(
    dockerReference(ref),
    descriptor.digest,
    options.predicateType,
    options.predicate,
  );
  const statementBytes = Buffer.from(JSON.stringify(statement));
  if (options.bundle) {
    const stored = await publishBundle(
      client,
      ref,
      descriptor,
      key,
      options.predicateType,
      statementBytes,
    );
    return { digest: descriptor.digest, format: "bundle", stored };
  }
  const envelope = signEnvelope(key, IN_TOTO_PAYLOAD_TYPE, statementBytes);
  const layer = blobOf(Buffer.from(JSON.stringify(envelope)), DSSE_MEDIA_TYPE, {
    [SIGNATURE_ANNOTATION]: "",
    [PREDICATE_TYPE_ANNOTATION]: options.predicateType,
  });
  const stored = await attachByTag(client, ref.repository, descriptor.digest, "att", layer);
  return { digest: descriptor.digest, format: "simplesigning", stored };
}

export interface ImageVerification {
  digest: string;
  verdicts: SignatureVerdict[];
}

export async function verifyImage(
  client: RegistryClient,
  ref: ImageReference,
  keys: KeyObject[],
  annotations: Record<string, string>,
): Promise<ImageVerification> {
  const { descriptor } = await resolveSubject(client, ref);
  const evidence = await discoverSignatures(
    clientAttachmentReader(client, ref.repository),
    descriptor.digest,
  );
  const trusted: TrustedKey[] = keys.map(trustedKey);
  return {
    digest: descriptor.digest,
    verdicts: evaluateSignatures(evidence, {
      digest: descriptor.digest,
      keys: trusted,
      annotations,
    }),
  };
}
