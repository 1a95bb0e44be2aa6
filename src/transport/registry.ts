// `docker://REF`: a repository in a registry as an ImageSource / ImageDestination, over the
// registry client. Credentials default to the docker/podman files. The destination checks
// blobs with HEAD, mounts from `mountFrom` repositories of the same registry before
// uploading, and uploads streamed. Manifests are put byte-for-byte (digests preserved).
import type { Readable } from "node:stream";
import { fileCredentialResolver } from "../client/credentials.js";
import { type ClientOptions, RegistryClient } from "../client/registry-client.js";
import type { Descriptor, ImageReference } from "../oci/index.js";
import type { ImageDestination, ImageSource, ManifestBytes, ManifestPlacement } from "./types.js";

export interface RegistryOptions extends ClientOptions {
  /** An explicit auth file (like --authfile); otherwise the standard docker/podman files. */
  authFile?: string;
  /** Upload in PATCH chunks of this size instead of one streamed PUT. */
  chunkSize?: number;
}

export function registryClient(registry: string, options: RegistryOptions): RegistryClient {
  return new RegistryClient(registry, {
    ...options,
    credentials: options.credentials ?? fileCredentialResolver(options.authFile),
  });
}

export class RegistrySource implements ImageSource {
  constructor(
    readonly description: string,
    readonly client: RegistryClient,
    readonly reference: ImageReference,
  ) {}

  get repository(): string {
    return this.reference.repository;
  }

  async getManifest(digest?: string): Promise<ManifestBytes> {
    const ref = digest ?? this.reference.digest ?? this.reference.tag ?? "latest";
    return this.client.getManifest(this.reference.repository, ref);
  }

  getBlob(descriptor: Descriptor): Promise<Readable> {
    return this.client.getBlob(this.reference.repository, descriptor);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export class RegistryDestination implements ImageDestination {
  /** Repositories of the same registry to try a cross-repository mount from. */
  mountFrom: string[] = [];

  constructor(
    readonly description: string,
    readonly client: RegistryClient,
    readonly reference: ImageReference,
    private readonly chunkSize?: number,
  ) {}

  get repository(): string {
    return this.reference.repository;
  }

  /** The tag the top-level manifest gets when the caller names none. */
  get defaultTag(): string | undefined {
    return this.reference.tag ?? (this.reference.digest ? undefined : "latest");
  }

  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.client.hasBlob(this.reference.repository, descriptor.digest);
  }

  /** Mounts the blob from one of `mountFrom`; true when it is now in this repository. */
  async tryMount(descriptor: Descriptor): Promise<boolean> {
    for (const from of this.mountFrom) {
      if (from === this.reference.repository) continue;
      if (await this.client.mountBlob(this.reference.repository, descriptor.digest, from))
        return true;
    }
    return false;
  }

  putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    return this.client.uploadBlob(this.reference.repository, descriptor, content, {
      chunkSize: this.chunkSize,
    });
  }

  async putManifest(
    manifest: ManifestBytes,
    tag?: string,
    placement?: ManifestPlacement,
  ): Promise<void> {
    const top = (placement ?? (tag ? "top" : "child")) === "top";
    await this.client.putManifest(
      this.reference.repository,
      tag ?? (top ? this.defaultTag : undefined) ?? manifest.digest,
      manifest.bytes,
      manifest.mediaType,
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export async function openRegistrySource(
  ref: ImageReference,
  options: RegistryOptions,
  text: string,
) {
  return new RegistrySource(text, registryClient(ref.registry, options), ref);
}

export async function openRegistryDestination(
  ref: ImageReference,
  options: RegistryOptions,
  text: string,
) {
  return new RegistryDestination(
    text,
    registryClient(ref.registry, options),
    ref,
    options.chunkSize,
  );
}
