// The CLI's fact gathering for `berth gate`: the manifest/config facts through the shared
// gatherer (src/policy/gate-image-facts.ts, the same one the registry uses at push), plus
// only what the policy's other rules need — layer analysis (uncompressed size, efficiency),
// the scanner's inventory (packages, licences) and vulnerability matching (only then is a
// database needed), signature verdicts from src/sign/verify.ts, and Dockerfile lint findings.
// Thin I/O shell: no rule is decided here.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { analyzeImage } from "../analyze/index.js";
import { lintDockerfile } from "../lint/index.js";
import type { GateFacts, GatePolicy } from "../policy/gate.js";
import { gatherImageFacts } from "../policy/gate-image-facts.js";
import { allFindings } from "../scan/result.js";
import { collectInventory, scan } from "../scan/scan.js";
import { verifyImage } from "../sign/image-signing.js";
import { openImageSource, resolveImage, type TransportOptions } from "../transport/index.js";
import { registryClient } from "../transport/registry.js";
import { namesRegistryHost, parseTransportSpec } from "../transport/spec.js";
import { CliError, ExitCode } from "./errors.js";
import { publicKeysFromFiles } from "./signing-keys.js";

export interface CliGateOptions {
  readonly platform?: string;
  readonly transport: TransportOptions;
  /** Directory the policy's relative key paths are read from. */
  readonly policyDir: string;
  readonly dockerfile?: { path: string; text: string };
  readonly dbDir: string;
  readonly onProgress?: (message: string) => void;
}

/** Checks, before the image is read, that the policy's rules can be evaluated here. */
export function checkGateInputs(image: string, policy: GatePolicy, options: CliGateOptions): void {
  if (policy.lint && !options.dockerfile) {
    throw new CliError("the policy's lint rule needs --dockerfile FILE", ExitCode.Usage);
  }
  if (policy.signedBy && parseTransportSpec(image).kind !== "registry") {
    throw new CliError(
      `the policy's signedBy rule needs a registry image (signatures live in a registry), not ${image}`,
      ExitCode.Usage,
    );
  }
}

export async function gatherCliFacts(
  image: string,
  policy: GatePolicy,
  options: CliGateOptions,
): Promise<GateFacts> {
  const progress = options.onProgress ?? (() => {});
  const source = await openImageSource(image, options.transport);
  const facts: Record<string, unknown> = {};
  try {
    progress("reading the manifest and config");
    const gathered = await gatherImageFacts(source, policy, {
      platform: options.platform,
      // A base image named by the policy or the image's annotations may be a short name
      // (the policy normalises it): it is read as a registry reference, as docker reads it.
      openBase: (ref) =>
        openImageSource(
          namesRegistryHost(ref) || /^(?:[a-z-]+:\/\/|oci:|oci-archive:|docker-archive:)/.test(ref)
            ? ref
            : `docker://${ref}`,
          options.transport,
        ),
    });
    Object.assign(facts, gathered.facts);
    if (policy.maxUncompressedSize !== undefined || policy.efficiency) {
      const resolved =
        gathered.resolved ?? (await resolveImage(source, { platform: options.platform }));
      facts.digest = resolved.index ? facts.digest : resolved.manifest.digest;
      const analysis = await analyzeImage(source, resolved, {
        onLayer: (i, n) => progress(`analyzing layer ${i + 1}/${n}`),
      });
      facts.uncompressedBytes = analysis.totals.uncompressedBytes;
      facts.efficiency = {
        efficiency: analysis.totals.efficiency,
        wastedBytes: analysis.totals.wastedBytes,
      };
    }
  } finally {
    await source.close();
  }
  if (policy.vulnerabilities) {
    const result = await scan(image, {
      dbDir: options.dbDir,
      platform: options.platform,
      transport: options.transport,
      onProgress: progress,
    });
    facts.vulnerabilities = allFindings(result).map((f) => ({
      id: f.vulnerabilityId,
      aliases: f.aliases,
      severity: f.severity,
      package: f.package.name,
      version: f.installedVersion,
      ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
    }));
    facts.packages = result.packages.map(gatePackage);
  } else if (policy.forbiddenPackages || policy.forbiddenLicenses) {
    const inventory = await collectInventory(image, {
      platform: options.platform,
      transport: options.transport,
      onProgress: progress,
    });
    facts.packages = inventory.packages.map(gatePackage);
  }
  if (policy.signedBy) facts.signatures = await signatureVerdicts(image, policy, options);
  if (policy.lint && options.dockerfile) {
    facts.lint = lintDockerfile(options.dockerfile.text).map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      message: f.message,
      line: f.line,
    }));
  }
  return facts as unknown as GateFacts;
}

function gatePackage(p: {
  name: string;
  version: string;
  ecosystem: string;
  licenses?: readonly string[];
}) {
  return { name: p.name, version: p.version, ecosystem: p.ecosystem, licenses: p.licenses ?? [] };
}

async function signatureVerdicts(image: string, policy: GatePolicy, options: CliGateOptions) {
  const spec = parseTransportSpec(image);
  if (spec.kind !== "registry") throw new CliError("signedBy needs a registry image", 2);
  const keys = publicKeysFromFiles(
    (policy.signedBy ?? []).map((path) =>
      isAbsolute(path) ? path : resolve(options.policyDir, path),
    ),
  );
  options.onProgress?.("verifying signatures");
  const client = registryClient(spec.reference.registry, options.transport.registry ?? {});
  try {
    const result = await verifyImage(client, spec.reference, keys, {});
    return result.verdicts
      .filter((v) => v.kind === "signature")
      .map((v) => ({ verified: v.verified, keyFingerprint: v.keyFingerprint, reason: v.reason }));
  } finally {
    await client.close();
  }
}

/** The directory a policy file's relative paths are relative to. */
export function policyDirOf(path: string): string {
  return dirname(resolve(path));
}

/** Reads a text file for the command, as one CLI sentence when it cannot. */
export function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : (code ?? "unreadable")}`,
      ExitCode.Usage,
    );
  }
}
