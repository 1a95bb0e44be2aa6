// A real nginx (Debian package `nginx`) as a round-robin HTTP load balancer in front of several
// `berth serve` replicas, for the scale-out tests: a temp prefix with its own config, logs and
// temp dirs, listening on 127.0.0.1 only, no sticky sessions, request and response bodies
// streamed (no buffering), a refused connection retried on the next replica (what a load
// balancer does when a replica dies). The access log records which replica served each
// request ($upstream_addr). Stopped by PID.
// It must never touch /etc/nginx or the system's nginx service.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, OutputTail, stopChild, waitForHttp } from "./process-control.js";
import { findExecutable } from "./tools.js";

export interface NginxBalancer {
  url: string;
  host: string;
  /** One line per request: `<method> <uri> <status> <upstream addresses>`. */
  accessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startNginxBalancer(upstreams: string[]): Promise<NginxBalancer> {
  const nginx = findExecutable("nginx");
  if (!nginx)
    throw new Error("nginx is not installed (Debian package nginx; scripts/install-test-deps.sh)");
  const dir = await mkdtemp(join(tmpdir(), "berth-nginx-"));
  await chmod(dir, 0o755);
  const temp = join(dir, "temp");
  await mkdir(temp);
  let user = "";
  if (process.getuid?.() === 0) {
    // Workers drop to nobody; they need their temp directory.
    const uid = Number(execFileSync("id", ["-u", "nobody"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "nobody"]).toString().trim());
    await chown(temp, uid, gid);
    const group = execFileSync("id", ["-gn", "nobody"]).toString().trim();
    user = `user nobody ${group};`;
  }
  const port = await freePort();
  const conf = `
${user}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format replicas '$request_method $uri $status $upstream_addr';
  access_log ${dir}/access.log replicas;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 0;
  upstream berth {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=5s;`).join("\n")}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://berth;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout;
    }
  }
}
`;
  await writeFile(join(dir, "nginx.conf"), conf);
  const output = new OutputTail();
  const child: ChildProcess = spawn(nginx, ["-p", dir, "-c", join(dir, "nginx.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/v2/`, {
    child,
    timeoutMs: 30_000,
    describe: () => `nginx: ${output.toString()} (error log: ${dir}/error.log)`,
  });
  return {
    url,
    host: `127.0.0.1:${port}`,
    async accessLog() {
      const text = await readFile(join(dir, "access.log"), "utf8").catch(() => "");
      return text.split("\n").filter(Boolean);
    },
    async stop() {
      await stopChild(child, 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
