// For commands that only make sense against a registry (ls, tag, delete, referrers, …): parse
// the argument as a registry reference (usage error otherwise) and build a client for it
// with the shared registry flags.
import type { RegistryClient } from "../client/registry-client.js";
import type { ImageReference } from "../oci/index.js";
import { registryClient } from "../transport/registry.js";
import { parseTransportSpec } from "../transport/spec.js";
import { CliError, ExitCode } from "./errors.js";
import { type RegistryFlags, registryOptionsFrom } from "./registry-flags.js";

export function registryReference(text: string): ImageReference {
  const spec = parseTransportSpec(text);
  if (spec.kind !== "registry") {
    throw new CliError(
      `"${text}" is not a registry image; this command works on registries only`,
      ExitCode.Usage,
    );
  }
  return spec.reference;
}

/** The tag or digest a reference names (`latest` when it names neither). */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

export function clientFor(ref: ImageReference, flags: RegistryFlags): RegistryClient {
  return registryClient(ref.registry, registryOptionsFrom(flags));
}
