// Scenario 7: a repository with 10,000 tags and a catalog of 10,000 repositories, each
// walked in full with `n=100` pages following the Link header: total time, and how many
// pages it took. distribution 2.8 ignores `n` on tags/list (it answers every tag at once),
// so the tag listing is also timed as one request without `n`, which both servers answer
// whole: that row compares like with like.

import { MediaType } from "../../src/oci/index.js";
import { mountBlob, pushSmallBlob, putManifest, walkPaginated } from "../registry-http.js";
import { metric, type Scenario, timed } from "../scenario.js";
import { pushSmallImage } from "./small-image.js";

const COUNT = 10_000;
const PARALLEL = 32;

async function inParallel(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export const listingScenario: Scenario = {
  id: "listing",
  title: "7. paginated walk (n=100) of 10,000 tags and of a 10,000-repository catalog",
  prepare: async () => {},
  async setup(server) {
    const auth = server.auth;
    const image = await pushSmallImage(server.url, "bench/tags", "t00000", auth);
    const pad = (i: number) => String(i).padStart(5, "0");
    await inParallel(COUNT - 1, (i) =>
      putManifest(
        server.url,
        "bench/tags",
        `t${pad(i + 1)}`,
        image.manifest.bytes,
        MediaType.OciManifest,
        auth,
      ),
    );
    // The catalog already holds bench/tags; add COUNT - 1 more repositories.
    await inParallel(COUNT - 1, async (i) => {
      const repo = `catalog/r${pad(i)}`;
      for (const blob of [
        { digest: image.layer.descriptor.digest, bytes: image.layer.gz },
        { digest: image.config.digest, bytes: image.config.bytes },
      ]) {
        if (!(await mountBlob(server.url, repo, "bench/tags", blob.digest, auth))) {
          await pushSmallBlob(server.url, repo, blob.bytes, blob.digest, auth);
        }
      }
      await putManifest(server.url, repo, "v1", image.manifest.bytes, MediaType.OciManifest, auth);
    });
  },
  async run(server) {
    let tags = { items: 0, pages: 0 };
    let whole = { items: 0, pages: 0 };
    let repos = { items: 0, pages: 0 };
    const tagTime = await timed(async () => {
      tags = await walkPaginated(server.url, "/v2/bench/tags/tags/list?n=100", "tags", server.auth);
    });
    const wholeTime = await timed(async () => {
      whole = await walkPaginated(server.url, "/v2/bench/tags/tags/list", "tags", server.auth);
    });
    const catalogTime = await timed(async () => {
      repos = await walkPaginated(server.url, "/v2/_catalog?n=100", "repositories", server.auth);
    });
    if (tags.items !== COUNT) throw new Error(`tag walk saw ${tags.items} tags, not ${COUNT}`);
    if (whole.items !== COUNT || whole.pages !== 1) {
      throw new Error(`unpaginated tag list gave ${whole.items} tags in ${whole.pages} pages`);
    }
    if (repos.items < COUNT) {
      throw new Error(`catalog walk saw ${repos.items} repositories, expected ${COUNT}`);
    }
    return [
      metric("tags walk (n=100)", "s", tagTime, false),
      metric("tags walk pages", "count", tags.pages, false),
      metric("tags, one request (no n)", "s", wholeTime, false),
      metric("catalog walk (n=100)", "s", catalogTime, false),
      metric("catalog walk pages", "count", repos.pages, false),
    ];
  },
};
