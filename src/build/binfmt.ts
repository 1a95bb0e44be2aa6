// RUN for a foreign platform: the step's binaries run through qemu-user-static, which the
// kernel starts for them through binfmt_misc. Where the host has no binfmt entry for the
// platform but qemu-user-static is installed (Debian ships each entry as
// /usr/lib/binfmt.d/qemu-ARCH.conf, in the kernel's register format, with the F flag so the
// interpreter is opened at registration and works inside the step's chroot), the entry is
// registered (mounting binfmt_misc first where it is not mounted), as systemd-binfmt does at
// boot; this needs root. Otherwise the error names what is missing. Never changes an entry
// that exists.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const BINFMT = "/proc/sys/fs/binfmt_misc";

/** qemu's name for an OCI architecture (`arm64` → `aarch64`). */
export function qemuArch(architecture: string): string | undefined {
  const names: Record<string, string> = {
    amd64: "x86_64",
    arm64: "aarch64",
    arm: "arm",
    "386": "i386",
    riscv64: "riscv64",
    ppc64le: "ppc64le",
    s390x: "s390x",
    mips64le: "mips64el",
    loong64: "loongarch64",
  };
  return names[architecture];
}

function enabled(entry: string): boolean {
  try {
    return readFileSync(entry, "utf8").split("\n")[0]?.trim() === "enabled";
  } catch {
    return false;
  }
}

/**
 * Makes sure the kernel runs `architecture` binaries through qemu; throws an Error naming what
 * is missing when it cannot.
 */
export function ensureForeignRun(architecture: string): void {
  const qemu = qemuArch(architecture);
  if (!qemu) throw new Error(`RUN for linux/${architecture}: no qemu emulator is known for it`);
  const entry = `${BINFMT}/qemu-${qemu}`;
  if (enabled(entry)) return;
  const conf = `/usr/lib/binfmt.d/qemu-${qemu}.conf`;
  if (!existsSync(conf)) {
    throw new Error(
      `RUN for linux/${architecture} needs qemu-${qemu} registered through binfmt_misc; neither is there a binfmt entry nor qemu-user-static (Debian package qemu-user-static, ${conf}) to register`,
    );
  }
  try {
    if (!existsSync(`${BINFMT}/register`)) {
      execFileSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], { stdio: "ignore" });
    }
    const line = readFileSync(conf, "utf8")
      .split("\n")
      .find((l) => l.startsWith(":"));
    if (!line) throw new Error(`${conf} holds no binfmt entry`);
    if (!existsSync(entry)) writeFileSync(`${BINFMT}/register`, line);
    else writeFileSync(entry, "1");
  } catch (err) {
    throw new Error(
      `RUN for linux/${architecture} needs qemu-${qemu} registered through binfmt_misc, and registering ${conf} failed (${(err as Error).message}); register it as root (systemd-binfmt, or: mount -t binfmt_misc binfmt_misc ${BINFMT}; cat ${conf} > ${BINFMT}/register)`,
    );
  }
  if (!enabled(entry)) throw new Error(`binfmt entry ${entry} is not enabled after registering it`);
}
