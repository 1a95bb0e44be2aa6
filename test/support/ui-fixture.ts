// A Berth with realistic content for the web UI's screenshots and bench: token auth with a
// known admin password, a project with members and a robot, an image whose history has
// empty and layer-making steps (pushed with skopeo under three tags), a two-platform
// index, and an SBOM referrer; optionally many extra tags (added through the management
// API with a browser session, as the UI itself would). Ends only the server it started.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaType } from "../../src/oci/index.js";
import { type BerthProcess, startBerth } from "./berth-process.js";
import { skopeoCopy } from "./container-tools.js";
import { OciLayoutWriter } from "./oci-layout.js";
import {
  artifactFor,
  artifactLayout,
  syntheticLayer,
  twoPlatformIndexLayout,
} from "./synthetic-images.js";

export const FIXTURE_ADMIN_PASSWORD = "admin-password-for-ui";

export interface UiFixture {
  readonly berth: BerthProcess;
  /** The image's manifest digest (demo/web). */
  readonly imageDigest: string;
  /** Management API call as the administrator (Basic). */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

const HISTORY = [
  { created_by: "/bin/sh -c #(nop) ADD file:3c0ba0f1e2d in / " },
  { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
  { created_by: "ENV NODE_ENV=production", empty_layer: true, comment: "buildkit.dockerfile.v0" },
  {
    created_by:
      "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* # buildkit",
  },
  { created_by: "WORKDIR /srv/app", empty_layer: true },
  { created_by: "COPY dist/ /srv/app/ # buildkit" },
  { created_by: 'CMD ["node","server.js"]', empty_layer: true },
];

async function realisticImage(dir: string): Promise<string> {
  const layout = await OciLayoutWriter.create(dir);
  const layers = [];
  const diffIds = [];
  for (const [seed, size] of [
    ["rootfs", 180_000],
    ["apt", 90_000],
    ["app", 40_000],
  ] as const) {
    const layer = await syntheticLayer({ seed, size });
    layers.push(await layout.writeBlob(layer.gzip, MediaType.OciLayerGzip));
    diffIds.push(layer.diffId);
  }
  const config = await layout.writeJson(
    {
      created: "2026-11-30T09:12:00Z",
      architecture: "amd64",
      os: "linux",
      config: {
        Env: [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "NODE_ENV=production",
        ],
        Cmd: ["node", "server.js"],
        WorkingDir: "/srv/app",
        ExposedPorts: { "8080/tcp": {} },
        Labels: {
          "org.opencontainers.image.source": "https://git.example.com/demo/web",
          "org.opencontainers.image.version": "1.4.2",
        },
      },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: HISTORY.map((h) => ({ created: "2026-11-30T09:12:00Z", ...h })),
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers,
      annotations: { "org.opencontainers.image.title": "demo web" },
    },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "1.4.2");
  await layout.finish();
  return manifest.digest;
}

export async function startUiFixture(options: { extraTags?: number } = {}): Promise<UiFixture> {
  const work = await mkdtemp(join(tmpdir(), "berth-ui-fixture-"));
  const berth = await startBerth({
    env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: FIXTURE_ADMIN_PASSWORD },
  });
  const auth = `Basic ${Buffer.from(`admin:${FIXTURE_ADMIN_PASSWORD}`).toString("base64")}`;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${berth.url}/api/v1${path}`, {
      method,
      headers: { authorization: auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const must = async (method: string, path: string, body?: unknown) => {
    const r = await api(method, path, body);
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  try {
    for (const username of ["alice", "bob"]) {
      await must("POST", "/users", { username, password: `${username}-password-1` });
    }
    await must("POST", "/projects", { name: "demo", public: false });
    await must("POST", "/projects/demo/members", { username: "alice", role: "maintainer" });
    await must("POST", "/projects/demo/members", { username: "bob", role: "guest" });
    await must("POST", "/projects/demo/robots", {
      name: "ci",
      description: "pushes from CI",
      actions: ["pull", "push"],
      expiresIn: "90d",
    });
    await must("PUT", "/projects/demo/quota", { limitBytes: 50_000_000 });
    const creds = ["--dest-creds", `admin:${FIXTURE_ADMIN_PASSWORD}`];
    const imageDir = join(work, "image");
    const imageDigest = await realisticImage(imageDir);
    for (const tag of ["1.4.2", "1.4", "latest"]) {
      await skopeoCopy(`oci:${imageDir}:1.4.2`, `docker://${berth.host}/demo/web:${tag}`, creds);
    }
    const index = await twoPlatformIndexLayout(join(work, "index"), "3.2", "tools");
    await skopeoCopy(index.reference, `docker://${berth.host}/demo/tools:3.2`, [...creds, "--all"]);
    await skopeoCopy(index.reference, `docker://${berth.host}/library/busybox:1.36`, [
      ...creds,
      "--all",
    ]);
    const sbom = artifactFor(
      { mediaType: MediaType.OciManifest, digest: imageDigest, size: 0 },
      "application/spdx+json",
      JSON.stringify({ spdxVersion: "SPDX-2.3", name: "demo/web" }),
    );
    const sbomRef = await artifactLayout(join(work, "sbom"), "sbom", sbom);
    await skopeoCopy(sbomRef, `docker://${berth.host}/demo/web:sbom-1.4.2`, creds);
    if (options.extraTags) await addTags(berth.url, "demo/web", imageDigest, options.extraTags);
    return {
      berth,
      imageDigest,
      api,
      close: async () => {
        await berth.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await berth.stop();
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** `count` tags `build-00001`… on `digest`, through the API with a session (8 in flight). */
async function addTags(url: string, repository: string, digest: string, count: number) {
  const signIn = await fetch(`${url}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: FIXTURE_ADMIN_PASSWORD }),
  });
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };
  const project = repository.split("/")[0];
  const path = `${url}/api/v1/projects/${project}/repositories/${encodeURIComponent(repository)}/artifacts/${digest}/tags`;
  let next = 1;
  const worker = async () => {
    while (next <= count) {
      const n = next++;
      const r = await fetch(path, {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
        body: JSON.stringify({ name: `build-${String(n).padStart(5, "0")}` }),
      });
      if (r.status !== 201) throw new Error(`tag ${n}: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
