// The analyze tests' main image: four layers and three empty history steps, with content
// chosen so every number of the analysis can be computed by hand (analyze.test.ts does).
//
//   history 0  `/bin/sh -c #(nop) ADD file:4d2c in / `                  layer 0 (gzip)
//   history 1  `/bin/sh -c #(nop)  CMD ["bash"]`                        empty_layer
//   history 2  `ENV FOO=bar`                                            empty_layer
//   history 3  `RUN |1 VERSION=1 /bin/sh -c apt-get update && …`        layer 1 (zstd)
//   history 4  `WORKDIR /app`                                           empty_layer
//   history 5  `RUN /bin/sh -c rm -rf /opt/data /etc/motd && chmod …`   layer 2 (gzip)
//   history 6  `COPY srv /srv # buildkit`                               layer 3 (plain tar)
import {
  dir,
  type FixtureStep,
  file,
  hardlink,
  opaque,
  symlink,
  whiteout,
} from "./fixture-image.js";

export const KNOWN_DOCKERFILE = `# syntax=docker/dockerfile:1
FROM debian:12
ARG VERSION=1
ENV FOO=bar
RUN apt-get update && \\
    apt-get install -y curl
WORKDIR /app
RUN rm -rf /opt/data /etc/motd && chmod 600 /bin/tool
COPY srv /srv
`;

export function knownImageSteps(): FixtureStep[] {
  return [
    {
      createdBy: "/bin/sh -c #(nop) ADD file:4d2c in / ",
      compression: "gzip",
      entries: [
        dir("etc"),
        file("etc/app.conf", 1000, "a"),
        file("etc/motd", 300, "m"),
        dir("bin"),
        file("bin/tool", 5000, "t"),
        hardlink("bin/tool-link", "bin/tool"),
        symlink("bin/sh", "/bin/tool"),
        dir("opt"),
        dir("opt/data"),
        file("opt/data/one", 2000, "1"),
        file("opt/data/two", 3000, "2"),
        dir("srv"),
        file("srv/a", 700, "s"),
      ],
    },
    { createdBy: '/bin/sh -c #(nop)  CMD ["bash"]', emptyLayer: true },
    { createdBy: "ENV FOO=bar", emptyLayer: true },
    {
      createdBy:
        "RUN |1 VERSION=1 /bin/sh -c apt-get update &&     apt-get install -y curl # buildkit",
      compression: "zstd",
      entries: [
        file("etc/app.conf", 1500, "b"),
        file("var/lib/apt/lists/deb_Packages", 8000, "p"),
        file("usr/bin/curl", 4000, "c"),
      ],
    },
    { createdBy: "WORKDIR /app", emptyLayer: true },
    {
      createdBy: "RUN /bin/sh -c rm -rf /opt/data /etc/motd && chmod 600 /bin/tool # buildkit",
      compression: "gzip",
      entries: [
        whiteout("opt/data"),
        whiteout("etc/motd"),
        file("bin/tool", 5000, "t", { mode: 0o600 }),
      ],
    },
    {
      createdBy: "COPY srv /srv # buildkit",
      compression: "none",
      entries: [
        dir("srv"),
        opaque("srv"),
        file("srv/b", 400, "B"),
        hardlink("srv/b-link", "srv/b"),
        file("srv/tool-copy", 5000, "t"),
      ],
    },
  ];
}
