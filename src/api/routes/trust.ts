// Per-project trust policy (signature enforcement on pull) and the signatures of an artifact:
//   GET/PUT /projects/{project}/trust   mode off|report|enforce + trusted public keys (PEM)
//   GET     /projects/{project}/repositories/{repository}/artifacts/{reference}/signatures
// Reading needs policy:read, changing needs policy:manage; every change is audited with the
// key fingerprints (never the keys' text) and takes effect at once in this process.
import type { FastifyInstance } from "fastify";
import { isValidRepositoryName } from "../../auth/scope.js";
import {
  getTrustPolicy,
  setTrustPolicy,
  TRUST_MODES,
  type TrustMode,
} from "../../meta/trust-policies.js";
import { isDigest, projectOf } from "../../oci/index.js";
import { discoverSignatures } from "../../sign/discover.js";
import { KeyFormatError, keyFingerprint, loadPublicKey } from "../../sign/keys.js";
import { evaluateSignatures, trustedKey } from "../../sign/verify.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { errors } from "../schemas.js";

const TrustPolicySchema = {
  type: "object",
  required: ["project", "mode", "keys"],
  properties: {
    project: { type: "string" },
    mode: { type: "string", enum: [...TRUST_MODES] },
    updatedAt: { type: ["string", "null"] },
    keys: {
      type: "array",
      items: {
        type: "object",
        required: ["fingerprint", "publicKey"],
        properties: {
          fingerprint: { type: "string" },
          publicKey: { type: "string", description: "PEM" },
          createdAt: { type: "string" },
        },
      },
    },
  },
} as const;

const SignatureSchema = {
  type: "object",
  properties: {
    kind: { type: "string", enum: ["signature", "attestation"] },
    format: { type: "string", enum: ["simplesigning", "dsse", "bundle"] },
    scheme: { type: "string", enum: ["tag", "referrer"] },
    manifestDigest: { type: "string" },
    layerDigest: { type: "string" },
    verified: { type: "boolean", description: "verified by one of the project's trusted keys" },
    keyFingerprint: { type: "string" },
    reason: { type: "string" },
    predicateType: { type: "string" },
    annotations: { type: "object", additionalProperties: true },
  },
} as const;

const projectParams = {
  type: "object",
  required: ["project"],
  properties: { project: { type: "string" } },
} as const;

function parseKeys(pems: string[]) {
  return pems.map((pem, i) => {
    try {
      const key = loadPublicKey(pem);
      return {
        fingerprint: keyFingerprint(key),
        publicKeyPem: key.export({ type: "spki", format: "pem" }).toString(),
      };
    } catch (err) {
      if (err instanceof KeyFormatError) throw badRequest(`keys[${i}]: ${err.message}`);
      throw err;
    }
  });
}

export async function trustRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const trust = ctx.trust;
  if (!trust) return;

  async function policyView(project: string) {
    const stored = await getTrustPolicy(trust!.db, project);
    if (!stored) throw notFound(`project "${project}" not found`);
    return {
      project,
      mode: stored.mode,
      updatedAt: stored.updatedAt,
      keys: stored.keys.map((k) => ({
        fingerprint: k.fingerprint,
        publicKey: k.publicKeyPem,
        createdAt: k.createdAt,
      })),
    };
  }

  app.get(
    "/projects/:project/trust",
    {
      schema: {
        summary: "Get the project's trust policy (signature enforcement)",
        tags: ["policies"],
        params: projectParams,
        response: { 200: TrustPolicySchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:read");
      return policyView(project);
    },
  );

  app.put(
    "/projects/:project/trust",
    {
      schema: {
        summary: "Set the project's trust policy: mode and trusted public keys",
        tags: ["policies"],
        params: projectParams,
        body: {
          type: "object",
          required: ["mode"],
          additionalProperties: false,
          properties: {
            mode: { type: "string", enum: [...TRUST_MODES] },
            keys: { type: "array", maxItems: 32, items: { type: "string", maxLength: 16384 } },
          },
        },
        response: { 200: TrustPolicySchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      const body = request.body as { mode: TrustMode; keys?: string[] };
      const keys = parseKeys(body.keys ?? []);
      if (body.mode !== "off" && keys.length === 0) {
        throw badRequest(`mode "${body.mode}" needs at least one trusted public key`);
      }
      if (!(await setTrustPolicy(trust!.db, project, body.mode, keys)))
        throw notFound(`project "${project}" not found`);
      trust!.invalidate(project);
      await ctx.auth.audit.record({
        actor: caller.principal,
        action: "trust.update",
        resourceType: "project",
        resource: project,
        project,
        remoteAddress: caller.remoteAddress,
        detail: { mode: body.mode, keys: keys.map((k) => k.fingerprint) },
      });
      return policyView(project);
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference/signatures",
    {
      schema: {
        summary:
          "Signatures and attestations of an artifact, verified against the project's trusted keys",
        tags: ["artifacts"],
        params: {
          type: "object",
          required: ["project", "repository", "reference"],
          properties: {
            project: { type: "string" },
            repository: { type: "string", description: "full name, URL-encoded" },
            reference: { type: "string", description: "digest or tag" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              digest: { type: "string" },
              signed: { type: "boolean" },
              signatures: { type: "array", items: SignatureSchema },
            },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project, repository, reference } = request.params as {
        project: string;
        repository: string;
        reference: string;
      };
      if (!isValidRepositoryName(repository) || projectOf(repository) !== project) {
        throw notFound(`repository "${repository}" not found in project "${project}"`);
      }
      await requireProjectAction(ctx, caller, project, "artifact:list");
      const reader = trust!.reader(repository);
      const manifest = await reader.manifest(reference);
      if (!manifest || (isDigest(reference) && manifest.digest !== reference)) {
        throw notFound(`artifact ${repository}:${reference} not found`);
      }
      const stored = await getTrustPolicy(trust!.db, project);
      const keys = (stored?.keys ?? []).map((k) => trustedKey(loadPublicKey(k.publicKeyPem)));
      const evidence = await discoverSignatures(reader, manifest.digest);
      const verdicts = evaluateSignatures(evidence, { digest: manifest.digest, keys });
      return {
        digest: manifest.digest,
        signed: verdicts.some((v) => v.kind === "signature" && v.verified),
        signatures: verdicts.map(({ statement: _statement, ...v }) => v),
      };
    },
  );
}
