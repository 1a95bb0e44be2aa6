// Scenario 8: 1,000 idle keep-alive connections (each has made one authenticated GET /v2/ on
// Berth as shipped, and stays open)
// held while scenario 4's manifest GET load runs: what they cost in RSS, how many the server
// dropped, and load errors.
import { connect, type Socket } from "node:net";
import { metric, type Scenario } from "../scenario.js";
import { currentRss } from "../servers.js";
import { requestRateMetrics, setupSmallRepo } from "./request-rate.js";

const IDLE = 1000;

function openIdle(host: string, port: number, auth: string | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let seen = "";
    socket.setEncoding("latin1");
    socket.once("error", reject);
    socket.on("data", (chunk: string) => {
      seen += chunk;
      // One small response (GET /v2/) read in full; the connection then sits idle.
      if (seen.includes("\r\n\r\n")) resolve(socket);
    });
    const authorization = auth ? `Authorization: ${auth}\r\n` : "";
    socket.write(
      `GET /v2/ HTTP/1.1\r\nHost: ${host}:${port}\r\n${authorization}Connection: keep-alive\r\n\r\n`,
    );
  });
}

export const idleConnectionsScenario: Scenario = {
  id: "idle-connections",
  title: "8. 1,000 idle keep-alive connections held during scenario 4's load (c=32)",
  // A fresh server each round: after a round's load, garbage collection during the next
  // round's connection set-up would make "what the connections cost" come out negative.
  freshServerPerRound: true,
  prepare: async () => {},
  setup: (server) => setupSmallRepo(server),
  async run(server) {
    const [host, port] = server.host.split(":") as [string, string];
    const before = currentRss(server.pid);
    const sockets: Socket[] = [];
    let dropped = 0;
    for (let i = 0; i < IDLE; i++) {
      const s = await openIdle(host, Number(port), server.auth);
      s.on("close", () => {
        dropped++;
      });
      s.on("error", () => {});
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const held = currentRss(server.pid);
    // The load: manifest GET by tag, with a Bearer token on Berth as shipped.
    const byTag = await requestRateMetrics(server, [32], ["Bearer"], ["manifest GET by tag"]);
    const droppedDuringTest = dropped;
    for (const s of sockets) s.destroy();
    return [
      metric("RSS cost of 1,000 idle connections", "MB", (held - before) / 1e6, false),
      metric("idle connections dropped by server", "count", droppedDuringTest, false),
      ...byTag,
    ];
  },
};
