// The metadata contract suite: the registry's queries (src/meta) behave the same on every
// SQL dialect. meta-sqlite.test.ts and postgres.test.ts run it with their own database.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createUploadSession,
  deleteManifest,
  deleteTag,
  deleteUploadSession,
  ensureRepository,
  existingManifestDigests,
  findRepositoryBlob,
  findRepositoryId,
  findUploadSession,
  getManifestByDigest,
  linkBlob,
  linkedBlobDigests,
  listReferrers,
  listRepositories,
  listTagPage,
  listTags,
  type MetaDatabase,
  PullTimes,
  putManifest,
  recordBlobInRepository,
  resolveTag,
  setUploadReceived,
  staleUploadSessions,
  unlinkBlob,
} from "../../src/meta/index.js";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

export function describeMetaContract(name: string, open: () => Promise<MetaDatabase>) {
  describe(`metadata contract: ${name}`, () => {
    let meta: MetaDatabase;
    beforeEach(async () => {
      meta = await open();
    });
    afterEach(async () => {
      await meta.close();
    });

    it("creates repositories once and lists them in byte order", async () => {
      const a = await ensureRepository(meta.db, "team/b");
      expect(await ensureRepository(meta.db, "team/b")).toBe(a);
      for (const n of ["team/a", "Z/upper", "team/a-b", "team/a/c"])
        await ensureRepository(meta.db, n);
      expect(await listRepositories(meta.db, undefined, 10)).toEqual([
        "Z/upper",
        "team/a",
        "team/a-b",
        "team/a/c",
        "team/b",
      ]);
      expect(await listRepositories(meta.db, "team/a", 2)).toEqual(["team/a-b", "team/a/c"]);
      expect(typeof (await findRepositoryId(meta.db, "team/a"))).toBe("number");
      expect(await findRepositoryId(meta.db, "nope")).toBeUndefined();
    });

    it("links blobs per repository", async () => {
      await recordBlobInRepository(meta.db, "r/one", d(1), 1234);
      expect(await findRepositoryBlob(meta.db, "r/one", d(1))).toEqual({ size: 1234 });
      expect(await findRepositoryBlob(meta.db, "r/two", d(1))).toBeUndefined();
      await linkBlob(meta.db, "r/two", d(1));
      expect(await findRepositoryBlob(meta.db, "r/two", d(1))).toEqual({ size: 1234 });
      const id = (await findRepositoryId(meta.db, "r/one"))!;
      expect([...(await linkedBlobDigests(meta.db, id, [d(1), d(2)]))]).toEqual([[d(1), 1234]]);
      expect(await unlinkBlob(meta.db, "r/one", d(1))).toBe(true);
      expect(await unlinkBlob(meta.db, "r/one", d(1))).toBe(false);
      expect(await findRepositoryBlob(meta.db, "r/one", d(1))).toBeUndefined();
      // Recording the same blob again is idempotent.
      await recordBlobInRepository(meta.db, "r/one", d(1), 1234);
      await recordBlobInRepository(meta.db, "r/one", d(1), 1234);
    });

    it("stores manifests with exact bytes, tags and references", async () => {
      const content = Buffer.from('{"schemaVersion":2}  \n\u00e9');
      // A manifest's blobs must be linked to the repository when it is stored.
      await expect(
        putManifest(meta.db, {
          repository: "m/app",
          digest: d(10),
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          content,
          references: [{ kind: "blob", digest: d(1) }],
        }),
      ).rejects.toThrow(/not in the repository/);
      await recordBlobInRepository(meta.db, "m/app", d(1), 5);
      await putManifest(meta.db, {
        repository: "m/app",
        digest: d(10),
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        content,
        artifactType: "application/vnd.example",
        annotations: { a: "b" },
        references: [
          { kind: "blob", digest: d(1) },
          { kind: "blob", digest: d(1) },
        ],
        tag: "v1",
      });
      const stored = await getManifestByDigest(meta.db, "m/app", d(10));
      expect(stored?.content.equals(content)).toBe(true);
      expect(stored?.size).toBe(content.length);
      expect(stored?.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
      expect(typeof stored?.id).toBe("number");
      expect(await resolveTag(meta.db, "m/app", "v1")).toBe(d(10));
      expect(await getManifestByDigest(meta.db, "m/other", d(10))).toBeUndefined();
      const id = (await findRepositoryId(meta.db, "m/app"))!;
      expect([...(await existingManifestDigests(meta.db, id, [d(10), d(11)]))]).toEqual([
        [d(10), content.length],
      ]);
      // Pushing again is idempotent; a tag moves.
      await putManifest(meta.db, {
        repository: "m/app",
        digest: d(10),
        mediaType: "x/y",
        content,
        references: [],
        tag: "v1",
      });
      await putManifest(meta.db, {
        repository: "m/app",
        digest: d(11),
        mediaType: "x/y",
        content,
        references: [],
        tag: "v1",
      });
      expect(await resolveTag(meta.db, "m/app", "v1")).toBe(d(11));
    });

    it("lists tags in byte order with last/limit and deletes tags and manifests", async () => {
      for (const [i, tag] of ["b", "B", "a", "_z", "1.0", "a-1"].entries()) {
        await putManifest(meta.db, {
          repository: "t/app",
          digest: d(100 + i),
          mediaType: "x/y",
          content: Buffer.from(String(i)),
          references: [],
          tag,
        });
      }
      await putManifest(meta.db, {
        repository: "t/app",
        digest: d(200),
        mediaType: "x/y",
        content: Buffer.from("x"),
        references: [],
        tag: "also-a",
      });
      await putManifest(meta.db, {
        repository: "t/app",
        digest: d(102),
        mediaType: "x/y",
        content: Buffer.from("2"),
        references: [],
        tag: "again",
      });
      expect(await listTags(meta.db, "t/app", undefined, 100)).toEqual([
        "1.0",
        "B",
        "_z",
        "a",
        "a-1",
        "again",
        "also-a",
        "b",
      ]);
      expect(await listTags(meta.db, "t/app", "_z", 2)).toEqual(["a", "a-1"]);
      const head = await listTagPage(meta.db, "t/app", undefined, 2);
      expect({ ...head, json: JSON.parse(head.json) }).toEqual({
        json: ["1.0", "B"],
        count: 2,
        last: "B",
        more: true,
      });
      const tail = await listTagPage(meta.db, "t/app", "again", 2);
      expect({ ...tail, json: JSON.parse(tail.json) }).toEqual({
        json: ["also-a", "b"],
        count: 2,
        last: "b",
        more: false,
      });
      expect(await listTagPage(meta.db, "t/app", "zzz", 5)).toEqual({
        json: "[]",
        count: 0,
        last: undefined,
        more: false,
      });
      expect(await deleteTag(meta.db, "t/app", "B")).toEqual({});
      expect(await deleteTag(meta.db, "t/app", "B")).toBeUndefined();
      const removed = await deleteManifest(meta.db, "t/app", d(102));
      expect(removed?.tags.sort()).toEqual(["a", "again"]);
      expect(await deleteManifest(meta.db, "t/app", d(102))).toBeUndefined();
      expect(await deleteManifest(meta.db, "nope/app", d(102))).toBeUndefined();
      expect(await listTags(meta.db, "t/app", undefined, 100)).toEqual([
        "1.0",
        "_z",
        "a-1",
        "also-a",
        "b",
      ]);
    });

    it("finds referrers by subject, filtered by artifact type", async () => {
      const base = { mediaType: "application/vnd.oci.image.manifest.v1+json", references: [] };
      await putManifest(meta.db, {
        ...base,
        repository: "ref/app",
        digest: d(301),
        content: Buffer.from("1"),
        subjectDigest: d(300),
        artifactType: "a/sig",
        annotations: { k: "v" },
      });
      await putManifest(meta.db, {
        ...base,
        repository: "ref/app",
        digest: d(302),
        content: Buffer.from("22"),
        subjectDigest: d(300),
        artifactType: "a/sbom",
      });
      await putManifest(meta.db, {
        ...base,
        repository: "ref/other",
        digest: d(303),
        content: Buffer.from("3"),
        subjectDigest: d(300),
        artifactType: "a/sig",
      });
      const all = await listReferrers(meta.db, "ref/app", d(300));
      expect(all).toEqual([
        {
          digest: d(301),
          mediaType: base.mediaType,
          size: 1,
          artifactType: "a/sig",
          annotations: { k: "v" },
        },
        {
          digest: d(302),
          mediaType: base.mediaType,
          size: 2,
          artifactType: "a/sbom",
          annotations: undefined,
        },
      ]);
      expect(
        (await listReferrers(meta.db, "ref/app", d(300), "a/sbom")).map((r) => r.digest),
      ).toEqual([d(302)]);
      expect(await listReferrers(meta.db, "ref/app", d(999))).toEqual([]);
    });

    it("keeps upload sessions and finds stale ones", async () => {
      await createUploadSession(meta.db, "s1", "u/app");
      await setUploadReceived(meta.db, "s1", 5_000_000_000);
      const row = await findUploadSession(meta.db, "s1");
      expect(row).toMatchObject({ id: "s1", repository: "u/app", receivedBytes: 5_000_000_000 });
      expect(await staleUploadSessions(meta.db, Date.now() + 1000)).toEqual(["s1"]);
      expect(await staleUploadSessions(meta.db, Date.now() - 60_000)).toEqual([]);
      await deleteUploadSession(meta.db, "s1");
      expect(await findUploadSession(meta.db, "s1")).toBeUndefined();
    });

    it("writes upload progress while another writer holds a transaction", async () => {
      await createUploadSession(meta.db, "s2", "u/app");
      let progressDone = false;
      let progress: Promise<void> | undefined;
      // The progress write starts while a transaction is open and must wait for it (on
      // SQLite it may neither change the safety level inside the transaction nor join it).
      await meta.db.transaction().execute(async (trx) => {
        await trx
          .updateTable("upload_sessions")
          .set({ updated_at: 1 })
          .where("id", "=", "s2")
          .execute();
        progress = setUploadReceived(meta.db, "s2", 4096).then(() => {
          progressDone = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(progressDone).toBe(false);
      });
      await progress;
      expect(await findUploadSession(meta.db, "s2")).toMatchObject({ receivedBytes: 4096 });
    });

    it("records pull times in batches", async () => {
      await putManifest(meta.db, {
        repository: "p/app",
        digest: d(400),
        mediaType: "x/y",
        content: Buffer.from("p"),
        references: [],
      });
      const stored = (await getManifestByDigest(meta.db, "p/app", d(400)))!;
      const pulls = new PullTimes(meta.db, 60_000);
      pulls.record(stored.id);
      await pulls.stop();
      const row = await meta.db
        .selectFrom("manifests")
        .select("pulled_at")
        .where("id", "=", stored.id)
        .executeTakeFirstOrThrow();
      expect(Number(row.pulled_at)).toBeGreaterThan(Date.now() - 60_000);
    });

    it("answers the readiness check", async () => {
      await expect(meta.check()).resolves.toBeUndefined();
    });
  });
}
