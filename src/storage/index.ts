// The storage/ module's public surface: the BlobStore contract and the driver factory.
// The driver is chosen here, in one place, from the storage settings.
import type { BlobStore } from "./blob-store.js";
import { FilesystemBlobStore } from "./fs/fs-blob-store.js";
import { S3BlobStore, type S3Settings } from "./s3/s3-blob-store.js";

export * from "./blob-store.js";
export { FilesystemBlobStore, STREAM_HIGH_WATER_MARK } from "./fs/fs-blob-store.js";
export { S3BlobStore, type S3Settings } from "./s3/s3-blob-store.js";

export interface StorageSettings {
  driver: "filesystem" | "s3";
  /** Root of the filesystem driver. */
  path: string;
  /** fsync blobs before they become visible (durable across power loss). Default true. */
  fsync?: boolean;
  /** The S3 driver's settings (driver s3). */
  s3?: S3Settings;
}

export function createBlobStore(settings: StorageSettings): BlobStore {
  switch (settings.driver) {
    case "filesystem":
      return new FilesystemBlobStore(settings.path, { fsync: settings.fsync ?? true });
    case "s3":
      if (!settings.s3) throw new Error("storage.driver s3 needs the storage.s3 settings");
      return new S3BlobStore(settings.s3);
  }
}
