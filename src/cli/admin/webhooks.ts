// `berth admin webhook add|ls|rm|enable|disable|test|deliveries` (docs/webhooks.md), against a
// running server (`--server URL`, the management API; project administrators): webhooks are
// delivered by the server's job workers, so there is no `--data` mode. The secret is printed
// once, by `add`; nothing else shows it again.
import type { Command } from "commander";
import type { DeliveryView, WebhookView } from "../../webhooks/api.js";
import { CliError, ExitCode } from "../errors.js";
import { printJson, renderTable } from "../output.js";
import { collect } from "../registry-flags.js";
import { adminJson, ManagementClient } from "./api-client.js";

const base = (project: string) => `/api/v1/projects/${encodeURIComponent(project)}/webhooks`;
const json = adminJson;

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  if (colon <= 0) throw new CliError(`--header "${text}" is not NAME: VALUE`, ExitCode.Usage);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

function targetRows(targets: WebhookView[]): string {
  return renderTable(
    ["ID", "URL", "EVENTS", "FORMAT", "ENABLED", "FAILURES"],
    targets.map((t) => [
      t.id,
      t.url,
      t.events.join(","),
      t.format,
      t.enabled ? "yes" : `no (${t.disabledReason ?? ""})`,
      String(t.consecutiveFailures),
    ]),
  );
}

export function registerWebhookCommands(admin: Command): void {
  const webhook = admin
    .command("webhook")
    .description("signed HTTP notifications of a project's events (docs/webhooks.md)");
  webhook
    .command("add <project>")
    .description("send the project's events to a URL, signed with a secret")
    .requiredOption("--url <url>", "the receiver (http:// or https://)")
    .requiredOption(
      "--events <list>",
      "comma-separated: push, pull, delete, scan, quota, replication, retention, signature, or all",
    )
    .option("--secret <secret>", "signing secret, at least 16 characters (default: generated)")
    .option(
      "--payload-format <format>",
      "payload: default (Harbor-compatible JSON) or cloudevents",
      "default",
    )
    .option("--header <name:value>", "custom request header (repeatable)", collect, [])
    .addHelpText(
      "after",
      "\nExample:\n  berth admin --server http://127.0.0.1:5000 webhook add team --url https://ci.example/hook --events push,delete",
    )
    .action(
      async (
        project: string,
        opts: {
          url: string;
          events: string;
          secret?: string;
          payloadFormat: string;
          header: string[];
        },
        command: Command,
      ) => {
        if (opts.payloadFormat !== "default" && opts.payloadFormat !== "cloudevents")
          throw new CliError(
            `--payload-format is default or cloudevents, not "${opts.payloadFormat}"`,
            ExitCode.Usage,
          );
        const client = await ManagementClient.open(command, "webhooks");
        const made = await client.call<WebhookView>("POST", base(project), {
          url: opts.url,
          events: opts.events.split(","),
          format: opts.payloadFormat,
          headers: Object.fromEntries(opts.header.map(parseHeader)),
          ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
        });
        if (json(command)) return printJson(made);
        process.stdout.write(
          `webhook ${made.id} added to ${project}: ${made.events.join(",")} → ${made.url}\n`,
        );
        if (opts.secret === undefined)
          process.stdout.write(`secret (shown only now): ${made.secret}\n`);
      },
    );
  webhook
    .command("ls <project>")
    .description("list the project's webhook targets")
    .action(async (project: string, _opts: unknown, command: Command) => {
      const client = await ManagementClient.open(command, "webhooks");
      const targets = await client.call<WebhookView[]>("GET", base(project));
      if (json(command)) return printJson(targets);
      process.stdout.write(targets.length ? `${targetRows(targets)}\n` : "no webhooks\n");
    });
  webhook
    .command("rm <project> <id>")
    .description("remove a webhook target and its delivery log")
    .action(async (project: string, id: string, _opts: unknown, command: Command) => {
      const client = await ManagementClient.open(command, "webhooks");
      await client.call("DELETE", `${base(project)}/${encodeURIComponent(id)}`);
      if (json(command)) return printJson({ removed: id });
      process.stdout.write(`webhook ${id} removed\n`);
    });
  for (const [name, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    webhook
      .command(`${name} <project> <id>`)
      .description(
        enabled ? "enable a target (resets its failure count)" : "stop delivering to a target",
      )
      .action(async (project: string, id: string, _opts: unknown, command: Command) => {
        const client = await ManagementClient.open(command, "webhooks");
        const t = await client.call<WebhookView>(
          "PATCH",
          `${base(project)}/${encodeURIComponent(id)}`,
          {
            enabled,
          },
        );
        if (json(command)) return printJson(t);
        process.stdout.write(`webhook ${id} ${enabled ? "enabled" : "disabled"}\n`);
      });
  }
  webhook
    .command("test <project> <id>")
    .description("send a TEST event and wait for its outcome")
    .option("--no-wait", "only queue it")
    .action(async (project: string, id: string, opts: { wait: boolean }, command: Command) => {
      const client = await ManagementClient.open(command, "webhooks");
      const path = `${base(project)}/${encodeURIComponent(id)}`;
      const { deliveryId } = await client.call<{ deliveryId: string }>("POST", `${path}/test`);
      let delivery: DeliveryView | undefined;
      for (let i = 0; opts.wait && i < 120; i++) {
        const list = await client.call<DeliveryView[]>("GET", `${path}/deliveries?limit=50`);
        delivery = list.find((d) => d.id === deliveryId);
        if (delivery && delivery.state !== "pending") break;
        if (delivery && delivery.attempts > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (json(command)) return printJson(delivery ?? { id: deliveryId, state: "pending" });
      if (!delivery || delivery.attempts === 0) {
        process.stdout.write(`test event ${deliveryId} queued\n`);
        return;
      }
      const ok = delivery.state === "succeeded";
      process.stdout.write(
        ok
          ? `test event delivered: HTTP ${delivery.statusCode} in ${delivery.durationMs} ms\n`
          : `test event not delivered (${delivery.error ?? delivery.state}); it is retried with backoff\n`,
      );
      if (!ok) process.exitCode = ExitCode.Failure;
    });
  webhook
    .command("deliveries <project> <id>")
    .description("the target's delivery log, newest first")
    .option("--limit <n>", "at most this many", "50")
    .action(async (project: string, id: string, opts: { limit: string }, command: Command) => {
      if (!/^[1-9]\d{0,2}$/.test(opts.limit) || Number(opts.limit) > 500)
        throw new CliError("--limit is a number from 1 to 500", ExitCode.Usage);
      const client = await ManagementClient.open(command, "webhooks");
      const list = await client.call<DeliveryView[]>(
        "GET",
        `${base(project)}/${encodeURIComponent(id)}/deliveries?limit=${opts.limit}`,
      );
      if (json(command)) return printJson(list);
      process.stdout.write(
        `${renderTable(
          ["ID", "EVENT", "STATE", "ATTEMPTS", "STATUS", "MS", "CREATED", "ERROR"],
          list.map((d) => [
            d.id,
            d.eventType,
            d.state,
            String(d.attempts),
            d.statusCode === null ? "" : String(d.statusCode),
            d.durationMs === null ? "" : String(d.durationMs),
            d.createdAt,
            d.error ?? "",
          ]),
        )}\n`,
      );
    });
}
