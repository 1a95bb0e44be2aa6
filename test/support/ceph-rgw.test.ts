// The shared Ceph radosgw fixture works as S3: a fresh bucket takes a multipart upload and
// answers ranged reads, listings and deletes. If this fails, every S3 test would: see
// scripts/ceph-rgw.sh and the logs under test/.work/ceph-rgw/log/.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { describe, expect, it } from "vitest";
import { freshBucket, s3Client, sharedCephRgw } from "./ceph-rgw.js";

describe("Ceph radosgw fixture", () => {
  it("serves S3 on 127.0.0.1 with multipart uploads and ranges", async () => {
    const rgw = await sharedCephRgw();
    expect(new URL(rgw.endpoint).hostname).toBe("127.0.0.1");
    const bucket = await freshBucket(rgw, "fixture");
    const client = s3Client(rgw);
    try {
      const body = Buffer.alloc(11 * 1024 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = i % 251;
      await new Upload({ client, params: { Bucket: bucket, Key: "a/big", Body: body } }).done();
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "a/big" }));
      expect(head.ContentLength).toBe(body.length);
      expect(head.ETag).toMatch(/-3"$/); // three parts of 5 MiB, 5 MiB, 1 MiB
      const part = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: "a/big", Range: "bytes=6291456-6291465" }),
      );
      expect(Buffer.from(await part.Body!.transformToByteArray())).toEqual(
        body.subarray(6291456, 6291466),
      );
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(["a/big"]);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "a/big" }));
      const after = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(after.KeyCount).toBe(0);
    } finally {
      client.destroy();
    }
  });
});
