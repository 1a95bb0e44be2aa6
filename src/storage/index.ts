// The storage/ module's public surface: the BlobStore contract and the driver factory.
// The driver is chosen here, in one place, from the storage settings.
import type { BlobStore } from "./blob-store.js";
import { FilesystemBlobStore } from "./fs/fs-blob-store.js";

export * from "./blob-store.js";
export { FilesystemBlobStore, STREAM_HIGH_WATER_MARK } from "./fs/fs-blob-store.js";

export interface StorageSettings {
  driver: "filesystem";
  /** Root directory of the filesystem driver. */
  path: string;
  /** fsync blobs before they become visible (durable across power loss). Default true. */
  fsync?: boolean;
}

export function createBlobStore(settings: StorageSettings): BlobStore {
  switch (settings.driver) {
    case "filesystem":
      return new FilesystemBlobStore(settings.path, { fsync: settings.fsync ?? true });
  }
}
