// Runs the BlobStore contract against the S3 driver on a real Ceph radosgw (test/support/
// ceph-rgw.ts; one bucket for this file, a fresh key prefix per test), plus S3 specifics: the
// key layout, presigned redirects with ranges, the 5 MiB chunk minimum, and the purge of
// multipart uploads a killed process left behind.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { S3BlobStore, type S3Settings } from "../../src/storage/index.js";
import { MIN_PART, planWrite } from "../../src/storage/s3/s3-blob-store.js";
import { type CephRgw, freshBucket, s3Client, sharedCephRgw } from "../support/ceph-rgw.js";
import { describeBlobStoreContract } from "./storage-contract.js";

let rgw: CephRgw;
let bucket: string;
let prefixes = 0;

beforeAll(async () => {
  rgw = await sharedCephRgw();
  bucket = await freshBucket(rgw, "contract");
});

function settings(prefix: string, extra: Partial<S3Settings> = {}): S3Settings {
  return {
    endpoint: rgw.endpoint,
    region: rgw.region,
    bucket,
    prefix,
    forcePathStyle: true,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
    redirect: false,
    redirectExpiryMs: 60_000,
    storageClass: "",
    serverSideEncryption: "",
    sseKmsKeyId: "",
    caFile: "",
    ...extra,
  };
}

describeBlobStoreContract("s3 (Ceph radosgw)", async () => {
  const prefix = `t${++prefixes}-${Date.now()}`;
  return {
    store: new S3BlobStore(settings(prefix)),
    another: () => new S3BlobStore(settings(prefix)),
    cleanup: async () => {},
  };
});

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

async function keys(prefix: string): Promise<string[]> {
  const client = s3Client(rgw);
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}

describe("S3 driver specifics", () => {
  it("lays blobs out under <prefix>/blobs/<alg>/<2 hex>/<hex> and leaves no upload behind", async () => {
    const store = new S3BlobStore(settings("layout/"));
    await store.init();
    expect(store.minChunkLength).toBe(5 * 1024 * 1024);
    await store.createUpload("abc");
    await store.writeUpload("abc", 0, Readable.from([Buffer.from("hello")]));
    const digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    await store.commitUpload("abc", digest, 5);
    expect(await keys("layout/")).toEqual([`layout/blobs/sha256/2c/${digest.slice(7)}`]);
  });

  it("redirects to a presigned URL that serves the blob and its ranges", async () => {
    const store = new S3BlobStore(settings("redirect", { redirect: true }));
    const data = Buffer.from("presigned bytes, straight from the bucket");
    await store.createUpload("r1");
    await store.writeUpload("r1", 0, Readable.from([data]));
    await store.commitUpload("r1", sha256(data), data.length);
    const url = await store.redirectUrl!(sha256(data));
    expect(url).toMatch(/X-Amz-Signature=/);
    const whole = await fetch(url!);
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
    const part = await fetch(url!, { headers: { Range: "bytes=0-8" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("presigned");
    const tampered = await fetch(url!.replace(/X-Amz-Signature=[0-9a-f]/, "X-Amz-Signature=z"));
    expect(tampered.status).toBe(403);
    expect(new S3BlobStore(settings("redirect")).redirectUrl).toBeUndefined();
  });

  it("aborts multipart uploads a killed process left, on uploads and on blob keys", async () => {
    const store = new S3BlobStore(settings("abandoned"));
    await store.createUpload("dead");
    const client = s3Client(rgw);
    try {
      // What a process killed in the middle of a segment write or of a commit leaves.
      for (const key of [
        "abandoned/uploads/dead/seg/000000000000000",
        `abandoned/blobs/sha256/ab/${"ab".repeat(32)}`,
      ]) {
        const created = await client.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
        );
        await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: created.UploadId,
            PartNumber: 1,
            Body: Buffer.alloc(MIN_PART),
          }),
        );
      }
      const pending = async () =>
        (
          await client.send(
            new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "abandoned/" }),
          )
        ).Uploads ?? [];
      expect(await pending()).toHaveLength(2);
      expect((await store.listUploads()).map((u) => u.id)).toEqual(["dead"]);
      expect(await store.abortIncompleteWrites(Date.now() - 3_600_000)).toBe(0); // too recent
      await store.deleteUpload("dead");
      expect((await pending()).map((u) => u.Key)).toEqual([
        `abandoned/blobs/sha256/ab/${"ab".repeat(32)}`,
      ]);
      expect(await store.abortIncompleteWrites(Date.now() + 60_000)).toBe(1);
      expect(await pending()).toEqual([]);
      expect(await store.listUploads()).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("fails init with the bucket's name when the bucket does not exist", async () => {
    const store = new S3BlobStore(settings("", { bucket: "no-such-bucket-berth" }));
    await expect(store.init()).rejects.toThrow(/no-such-bucket-berth/);
  });
});

describe("S3 write planning (pure)", () => {
  const seg = (start: number, size: number) => ({ start, size, key: `seg/${start}` });
  it("appends a new segment after a full one", () => {
    expect(planWrite([seg(0, MIN_PART)], MIN_PART)).toEqual({
      drop: [],
      keepBytes: 0,
      start: MIN_PART,
    });
  });
  it("merges into a last segment below the part minimum", () => {
    expect(planWrite([seg(0, MIN_PART), seg(MIN_PART, 10)], MIN_PART + 10)).toEqual({
      drop: [],
      keep: seg(MIN_PART, 10),
      keepBytes: 10,
      start: MIN_PART,
    });
  });
  it("cuts a segment the offset falls into and drops the ones after it", () => {
    const segments = [seg(0, MIN_PART), seg(MIN_PART, MIN_PART), seg(2 * MIN_PART, 5)];
    expect(planWrite(segments, MIN_PART + 3)).toEqual({
      drop: [seg(2 * MIN_PART, 5)],
      keep: seg(MIN_PART, MIN_PART),
      keepBytes: 3,
      start: MIN_PART,
    });
    expect(planWrite(segments, MIN_PART)).toEqual({
      drop: [seg(MIN_PART, MIN_PART), seg(2 * MIN_PART, 5)],
      keepBytes: 0,
      start: MIN_PART,
    });
  });
});
