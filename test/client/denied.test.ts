// A registry that knows the account but refuses the action answers 403 with the spec's
// `DENIED` code (as Harbor does for a guest pushing, or a project the account is not in); one
// that does not know the credentials answers 401. The client's messages tell the two apart:
// "alice may not pull from team/app" versus "refused the credentials of alice". The registry
// here is a real HTTP server on 127.0.0.1 speaking Basic auth and the spec's error bodies.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryError } from "../../src/client/errors.js";
import { RegistryClient } from "../../src/client/registry-client.js";

let server: Server;
let host: string;
const GOOD = `Basic ${Buffer.from("alice:right-pass").toString("base64")}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers.authorization !== GOOD) {
      res.writeHead(401, {
        "www-authenticate": 'Basic realm="test"',
        "content-type": "application/json",
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (req.url === "/v2/") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    res.writeHead(403, { "content-type": "application/json" });
    res.end(
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function failure(password: string, act: (c: RegistryClient) => Promise<unknown>) {
  const client = new RegistryClient(host, {
    credentials: async () => ({ username: "alice", password }),
    attempts: 1,
  });
  try {
    await act(client);
  } catch (err) {
    return err as RegistryError;
  } finally {
    await client.close();
  }
  throw new Error("expected the request to fail");
}

describe("refusals name their cause", () => {
  it("403 DENIED with accepted credentials: the account may not do the action", async () => {
    const err = await failure("right-pass", (c) => c.listTags("team/app"));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe("denied");
    expect(err.message).toBe(
      `alice may not pull from team/app on ${host} (requested access to the resource is denied)`,
    );
    const del = await failure("right-pass", (c) =>
      c.deleteManifest("team/app", `sha256:${"a".repeat(64)}`),
    );
    expect(del.message).toMatch(/^alice may not delete from team\/app on /);
  });

  it("401 for the credentials themselves: wrong username or password", async () => {
    const err = await failure("wrong-pass", (c) => c.listTags("team/app"));
    expect(err.kind).toBe("unauthorized");
    expect(err.message).toBe(
      `${host} refused the credentials of alice (wrong username or password)`,
    );
  });
});
