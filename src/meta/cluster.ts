// What several replicas sharing one PostgreSQL database need of each other, and nothing
// more: cache invalidations (PostgreSQL LISTEN/NOTIFY on one channel). On SQLite there is
// one process, so the signals go nowhere.
//
// Why LISTEN/NOTIFY and not a generation counter: the caches it serves (manifests by digest,
// authorization answers) exist to save a database round trip per request; reading a counter
// on every hit would cost that same round trip. A NOTIFY is sent after the change commits and
// before the changing request answers, and reaches the other replicas over a connection
// they keep open, so the next request a client sends (through the balancer, to any replica)
// finds the entry gone. While a replica's listening connection is down it cannot hear
// invalidations: `live` is false (callers then bypass their caches), and when it comes back
// every `onReset` listener runs (callers drop everything: what was missed is unknown).
//
// Never: block a request on the listening connection.
import type { Kysely } from "kysely";
import { sql } from "kysely";
import type pg from "pg";
import type { Database } from "./database.js";

const CHANNEL = "berth_cache";
const RECONNECT_MS = 1000;

export interface ClusterMessage {
  readonly topic: string;
  readonly data: Readonly<Record<string, string>>;
}

export interface Cluster {
  /** False while invalidations from other replicas may be missed. */
  readonly live: boolean;
  /** Tells the other replicas; resolves once the message is committed. Never throws. */
  publish(message: ClusterMessage): Promise<void>;
  /** Runs `listener` for each message another replica publishes on `topic`. */
  subscribe(topic: string, listener: (data: Readonly<Record<string, string>>) => void): void;
  /** Runs `listener` after the listening connection came back (messages may be lost). */
  onReset(listener: () => void): void;
  close(): Promise<void>;
}

/** One process: nobody to tell, and the caller's in-process lock is enough. */
export const SINGLE_PROCESS: Cluster = {
  live: true,
  publish: async () => {},
  subscribe: () => {},
  onReset: () => {},
  close: async () => {},
};

const CLUSTERS = new WeakMap<Kysely<Database>, Cluster>();

/** The cluster the database `db` belongs to (SINGLE_PROCESS for SQLite or a foreign Kysely). */
export function clusterOf(db: Kysely<Database>): Cluster {
  return CLUSTERS.get(db) ?? SINGLE_PROCESS;
}

export function registerCluster(db: Kysely<Database>, cluster: Cluster): void {
  CLUSTERS.set(db, cluster);
}

/** Parses a NOTIFY payload; undefined for anything this version did not send. */
export function parseMessage(
  payload: string | undefined,
  self: string,
): ClusterMessage | undefined {
  if (!payload) return undefined;
  try {
    const value = JSON.parse(payload) as { from?: unknown; topic?: unknown; data?: unknown };
    if (value.from === self || typeof value.topic !== "string") return undefined;
    const data: Record<string, string> = {};
    if (value.data && typeof value.data === "object") {
      for (const [k, v] of Object.entries(value.data)) if (typeof v === "string") data[k] = v;
    }
    return { topic: value.topic, data };
  } catch {
    return undefined;
  }
}

type ClientFactory = () => pg.Client;

export class PostgresCluster implements Cluster {
  private readonly listeners = new Map<string, ((data: Record<string, string>) => void)[]>();
  private readonly resets: (() => void)[] = [];
  private listener: pg.Client | undefined;
  private connected = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly newClient: ClientFactory,
    private readonly self: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get live(): boolean {
    return this.connected;
  }

  /** Opens the listening connection (the first time: failure is the caller's). */
  async start(): Promise<void> {
    await this.listen();
  }

  async publish(message: ClusterMessage): Promise<void> {
    const payload = JSON.stringify({ from: this.self, topic: message.topic, data: message.data });
    try {
      await sql`select pg_notify(${CHANNEL}, ${payload})`.execute(this.db);
    } catch (err) {
      // The change itself is committed; the others' caches age out (their entries are
      // bounded in time) or are reset when their listening connection notices the outage.
      this.onError(err);
    }
  }

  subscribe(topic: string, listener: (data: Readonly<Record<string, string>>) => void): void {
    const list = this.listeners.get(topic) ?? [];
    list.push(listener);
    this.listeners.set(topic, list);
  }

  onReset(listener: () => void): void {
    this.resets.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.connected = false;
    await this.listener?.end().catch(() => {});
  }

  private async listen(): Promise<void> {
    const client = this.newClient();
    client.on("notification", (n) => this.deliver(n.payload));
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, undefined));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    const wasDown = !this.connected;
    this.connected = true;
    if (wasDown) for (const reset of this.resets) reset();
  }

  private deliver(payload: string | undefined): void {
    const message = parseMessage(payload, this.self);
    if (!message) return;
    for (const listener of this.listeners.get(message.topic) ?? []) listener(message.data);
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.connected = false;
    if (err) this.onError(err);
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.closed) return;
      this.listen().catch((err) => {
        this.onError(err);
        this.scheduleReconnect();
      });
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
