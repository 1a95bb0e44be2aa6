// What the registry's access check costs per request with a Bearer token, in process and
// without HTTP or disk in the way: a robot's pull token for team/app, then
// `controller.check()` for GET /v2/team/app/manifests/v1 in a loop. On a machine shared with
// other work the HTTP rate (bench/auth-bearer.ts) follows the machine's load; this isolates
// the part credential revocation changed (token verification + the live account and
// permission check).
//
//   node --import tsx bench/auth-check.ts [ITERATIONS=20000] [ROUNDS=5]  →  JSON lines
import Fastify from "fastify";
import { Management } from "../src/auth/management.js";
import { openTestAuth } from "../test/auth/db.js";

async function main(): Promise<void> {
  const [iterations = "20000", rounds = "5"] = process.argv.slice(2);
  const t = await openTestAuth();
  try {
    const operator = { name: "operator", kind: "system" as const, isAdmin: true };
    const management = new Management(t.auth.store, t.auth.audit, t.auth.authorizer);
    await management.createProject(operator, { name: "team", isPublic: false, quotaBytes: null });
    const { robot, secret } = await management.createRobot(operator, {
      name: "bench",
      project: "team",
      permissions: [{ project: "team", actions: ["pull"] }],
      expiresAt: null,
    });
    const app = Fastify({ logger: false });
    await app.register(t.auth.tokenRoutes);
    const res = await app.inject({
      method: "GET",
      url: "/service/token?service=berth&scope=repository:team/app:pull",
      headers: {
        authorization: `Basic ${Buffer.from(`${robot.name}:${secret}`).toString("base64")}`,
      },
    });
    const { token } = res.json() as { token: string };
    const request = {
      headers: { authorization: `Bearer ${token}` },
      remoteAddress: "127.0.0.1",
      target: { kind: "repository" as const, repository: "team/app", actions: ["pull" as const] },
    };
    for (let round = 1; round <= Number(rounds); round++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < Number(iterations); i++) {
        const decision = await t.auth.controller.check(request);
        if (!decision.allowed) throw new Error(`refused: ${decision.message}`);
      }
      const us = Number(process.hrtime.bigint() - start) / 1000 / Number(iterations);
      process.stdout.write(
        `${JSON.stringify({ round, iterations: Number(iterations), usPerCheck: us })}\n`,
      );
    }
    await app.close();
  } finally {
    await t.close();
  }
}

await main();
