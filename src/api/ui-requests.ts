// Requests from the web UI mark themselves with `X-Requested-With: XMLHttpRequest` (as
// Spring Security and others read it). Their 401 answers carry no `WWW-Authenticate: Basic`
// challenge, so the browser never pops its own password dialog over the UI's sign-in form
// (and headless browsers never stall on it). Every other client keeps the challenge.
import type { FastifyReply, FastifyRequest } from "fastify";

export async function dropBrowserChallenge(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (request.headers["x-requested-with"] === "XMLHttpRequest" && reply.statusCode === 401) {
    reply.removeHeader("www-authenticate");
  }
  return payload;
}
