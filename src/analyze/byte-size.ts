// Byte sizes as dive reads and prints them (go-humanize): `20MB` is 20,000,000 bytes, `20MiB`
// is 20,971,520, a bare number is bytes; printing uses SI units (`12.3 MB`). Kept apart from
// src/auth/units.ts on purpose: that parser reads `20m` as MiB, dive as MB, and `berth analyze`
// thresholds must mean what they mean in a `.dive-ci` file. Pure.

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Bytes for `20MB`, `1.5 GiB`, `512`; undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim().replace(/,/g, ""));
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? "").toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `999 B`, `1.5 kB`, `12.3 MB`, `123 MB`: SI units, one decimal below 100 (none above). */
export function formatByteSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  const digits = value < 100 ? 1 : 0;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${unit}`;
}
