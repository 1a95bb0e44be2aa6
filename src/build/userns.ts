// Rootless `berth build`: the plan for re-running the build inside a user namespace where
// the invoking user is root (util-linux `unshare --map-root-user`), with the user's
// subordinate ids (/etc/subuid, /etc/subgid, applied by the setuid newuidmap/newgidmap) mapped
// to 1… so base-image files owned by other users and `USER`/`--chown` ids keep their owners,
// as buildah and podman do rootless. Without subordinate ids only root exists inside: layers
// still build, but steps that need other ids fail naming what is missing. Pure: the caller
// reads the files and runs the command.

export interface SubordinateRange {
  readonly start: number;
  readonly count: number;
}

/** The first /etc/subuid (or subgid) range of a user, by name or numeric id. */
export function subordinateRange(
  text: string,
  user: string,
  id: number,
): SubordinateRange | undefined {
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && c > 0) return { start: s, count: c };
  }
  return undefined;
}

export interface RootlessPlan {
  /** Arguments for `unshare` before `--` and the re-run command. */
  readonly unshareArgs: string[];
  /** Why only root is mapped (no subordinate ids), for a warning; undefined when they are. */
  readonly limited?: string;
}

export function rootlessPlan(options: {
  readonly uidRange?: SubordinateRange;
  readonly gidRange?: SubordinateRange;
  readonly hasNewuidmap: boolean;
  readonly hasNewgidmap: boolean;
}): RootlessPlan {
  const { uidRange, gidRange, hasNewuidmap, hasNewgidmap } = options;
  if (uidRange && gidRange && hasNewuidmap && hasNewgidmap) {
    return {
      unshareArgs: [
        "--map-root-user",
        `--map-users=${uidRange.start},1,${uidRange.count}`,
        `--map-groups=${gidRange.start},1,${gidRange.count}`,
      ],
    };
  }
  const missing: string[] = [];
  if (!hasNewuidmap || !hasNewgidmap) missing.push("newuidmap/newgidmap (Debian package uidmap)");
  if (!uidRange) missing.push("an /etc/subuid entry for this user");
  if (!gidRange) missing.push("an /etc/subgid entry for this user");
  return {
    unshareArgs: ["--map-root-user"],
    limited: `only root is mapped in the build's user namespace (missing: ${missing.join(", ")}); files and steps that need other user ids will fail`,
  };
}

/** The error for a host that refused the user namespace, naming what to change. */
export function userNamespaceRefused(stderr: string): string {
  return `rootless berth build needs a user namespace, and the host refused one (${stderr.trim() || "unshare failed"}): enable unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1 where it exists, kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu) or run as root`;
}
