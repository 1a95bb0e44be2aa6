// Parsing the HTTP Authorization header into credentials (Basic or Bearer). Pure; never
// logs. A malformed header is reported as such so callers can answer 401 rather than
// silently treat the caller as anonymous.

export type Credentials =
  | { readonly kind: "none" }
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "malformed" };

export function parseAuthorization(header: string | string[] | undefined): Credentials {
  if (header === undefined || header === "") return { kind: "none" };
  if (Array.isArray(header)) return { kind: "malformed" };
  const space = header.indexOf(" ");
  if (space === -1) return { kind: "malformed" };
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer") return value ? { kind: "bearer", token: value } : { kind: "malformed" };
  if (scheme !== "basic") return { kind: "malformed" };
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return { kind: "malformed" };
  return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
