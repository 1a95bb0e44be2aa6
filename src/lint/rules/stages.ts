// Rules about base images and build stages (BL1xxx): tags and digests, trusted registries,
// stage names and references, unused stages, --platform use, required labels.
import { parseImageReference } from "../../oci/reference.js";
import { expand } from "../expand.js";
import type { InstructionInfo, Span, Stage } from "../model.js";
import type { Check, RuleContext } from "./context.js";

function baseReference(stage: Stage): { registry: string; tag?: string; digest?: string } | null {
  if (stage.parent !== null || stage.imageUnresolved || stage.image.toLowerCase() === "scratch") {
    return null;
  }
  try {
    return parseImageReference(stage.image);
  } catch {
    return null;
  }
}

function imageSpan(stage: Stage): Span {
  return stage.from.args[0]?.span ?? stage.from.span;
}

const baseImageTag: Check = (ctx) => {
  for (const stage of ctx.model.stages) {
    const ref = baseReference(stage);
    if (ref === null || ref.digest !== undefined) continue;
    const span = imageSpan(stage);
    if (ref.tag === undefined || ref.tag === "latest") {
      const what = ref.tag === undefined ? "has no tag (Docker uses :latest)" : "uses :latest";
      ctx.report(
        "BL1001",
        span,
        `Base image "${stage.image}" ${what}; pin a version tag such as "${stage.image.replace(/:latest$/, "")}:<version>" so builds are reproducible.`,
      );
    } else {
      ctx.report(
        "BL1002",
        span,
        `Base image "${stage.image}" is not pinned by digest; append "@sha256:<digest>" so the tag cannot move under you.`,
      );
    }
  }
};

function registryTrusted(registry: string, trusted: readonly string[]): boolean {
  const hub = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
  return trusted.some((t) => {
    const entry = t.toLowerCase();
    if (entry.startsWith("*.")) return registry.endsWith(entry.slice(1));
    return entry === registry || (hub.has(entry) && hub.has(registry));
  });
}

const trustedRegistry: Check = (ctx) => {
  const trusted = ctx.config.trustedRegistries;
  if (trusted.length === 0) return;
  for (const stage of ctx.model.stages) {
    const ref = baseReference(stage);
    if (ref === null || registryTrusted(ref.registry.toLowerCase(), trusted)) continue;
    ctx.report(
      "BL1003",
      imageSpan(stage),
      `Base image "${stage.image}" comes from registry "${ref.registry}", which is not in trustedRegistries (${trusted.join(", ")}); use an image from a trusted registry or add it to .berth-lint.yaml.`,
    );
  }
};

const duplicateStageNames: Check = (ctx) => {
  const seen = new Map<string, Stage>();
  for (const stage of ctx.model.stages) {
    if (stage.name === null) continue;
    const first = seen.get(stage.name);
    if (first === undefined) seen.set(stage.name, stage);
    else {
      ctx.report(
        "BL1004",
        stage.from.span,
        `Stage name "${stage.name}" is already used by the stage on line ${first.from.span.line}; give each stage a unique name.`,
      );
    }
  }
};

/** A stage reference from `COPY --from` or `RUN --mount=from=`: the raw value and where. */
interface StageReference {
  readonly value: string;
  readonly stage: number;
  readonly instruction: InstructionInfo;
}

function stageReferences(ctx: RuleContext): StageReference[] {
  const refs: StageReference[] = [];
  for (const info of ctx.model.instructions) {
    if (info.stage < 0) continue;
    for (const flag of info.flags) {
      let raw: string | null = null;
      if (flag.name === "from" && (info.keyword === "COPY" || info.keyword === "ADD"))
        raw = flag.value;
      if (flag.name === "mount" && flag.value) {
        raw = /(?:^|,)from=([^,]+)/.exec(flag.value)?.[1] ?? null;
      }
      if (raw === null) continue;
      const expanded = expand(raw, info.scope, ctx.model.escape);
      if (!expanded.unresolved)
        refs.push({ value: expanded.value, stage: info.stage, instruction: info });
    }
  }
  return refs;
}

/** The stage a reference names: by index or (case-insensitive) name, else undefined. */
function referencedStage(ctx: RuleContext, value: string): Stage | undefined {
  if (/^\d+$/.test(value)) return ctx.model.stages[Number(value)];
  return ctx.model.stages.find((s) => s.name === value.toLowerCase());
}

const copyFromStage: Check = (ctx) => {
  for (const ref of stageReferences(ctx)) {
    const stage = referencedStage(ctx, ref.value);
    const flagName = ref.instruction.keyword === "RUN" ? "--mount from" : "--from";
    if (stage !== undefined && stage.index === ref.stage) {
      ctx.report(
        "BL1006",
        ref.instruction.span,
        `${ref.instruction.keyword} ${flagName}=${ref.value} refers to the stage it is in; copy from an earlier stage instead.`,
      );
    } else if (stage !== undefined && stage.index > ref.stage) {
      ctx.report(
        "BL1006",
        ref.instruction.span,
        `${ref.instruction.keyword} ${flagName}=${ref.value} refers to a stage defined later (line ${stage.from.span.line}); move that stage before this one.`,
      );
    } else if (stage === undefined && /^[A-Za-z0-9_-]+$/.test(ref.value)) {
      const known = ctx.model.stages.filter((s) => s.name !== null && s.index < ref.stage);
      const names = [...new Set(known.map((s) => s.name))];
      const hint = names.length > 0 ? ` (known stages: ${names.join(", ")})` : "";
      ctx.report(
        "BL1006",
        ref.instruction.span,
        `${ref.instruction.keyword} ${flagName}=${ref.value} names no earlier stage${hint}, so Docker would pull an image called "${ref.value}"; fix the stage name or use a full image reference with a tag.`,
      );
    }
  }
};

const unusedStages: Check = (ctx) => {
  if (ctx.target < 0) return;
  const refs = stageReferences(ctx);
  const used = new Set<number>();
  const visit = (index: number): void => {
    if (used.has(index)) return;
    used.add(index);
    const stage = ctx.model.stages[index];
    if (stage.parent !== null) visit(stage.parent);
    for (const ref of refs) {
      if (ref.stage !== index) continue;
      const target = referencedStage(ctx, ref.value);
      if (target !== undefined && target.index < index) visit(target.index);
    }
  };
  visit(ctx.target);
  for (const stage of ctx.model.stages) {
    if (stage.index >= ctx.target || used.has(stage.index)) continue;
    const label = stage.name === null ? `Stage ${stage.index}` : `Stage "${stage.name}"`;
    ctx.report(
      "BL1005",
      stage.from.span,
      `${label} is not used by the final image (no FROM, COPY --from or RUN --mount refers to it); remove it, or build it explicitly with --target.`,
    );
  }
};

const platformUse: Check = (ctx) => {
  for (const stage of ctx.model.stages) {
    const platform = stage.platform;
    if (platform === null) continue;
    if (/\$\{?BUILDPLATFORM\}?/.test(platform) && stage.index === ctx.target) {
      ctx.report(
        "BL1007",
        stage.from.span,
        "The final stage uses --platform=$BUILDPLATFORM, so the image is built for the build machine's platform, not the target; use $TARGETPLATFORM (or no --platform) in the final stage and keep $BUILDPLATFORM for cross-compiling builder stages.",
      );
    } else if (!platform.includes("$")) {
      ctx.report(
        "BL1008",
        stage.from.span,
        `FROM --platform=${platform} is hard-coded; leave the platform to \`berth build --platform\` or use $BUILDPLATFORM/$TARGETPLATFORM.`,
      );
    }
  }
};

const requiredLabels: Check = (ctx) => {
  if (ctx.config.requiredLabels.length === 0 || ctx.model.stages.length === 0) return;
  const present = new Set<string>();
  for (const info of ctx.imageInstructions) {
    if (info.keyword !== "LABEL") continue;
    for (const p of info.properties) present.add(expand(p.name, info.scope).value);
  }
  const final = ctx.model.stages[ctx.target];
  for (const label of ctx.config.requiredLabels) {
    if (present.has(label)) continue;
    ctx.report(
      "BL1009",
      final.from.span,
      `The image does not set the required label "${label}"; add LABEL ${label}="…" to the final stage.`,
    );
  }
};

const missingFrom: Check = (ctx) => {
  const firstFrom = ctx.model.stages[0]?.from;
  if (firstFrom === undefined) {
    const first = ctx.model.instructions[0];
    const span = first?.span ?? {
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: (ctx.model.lines[0] ?? "").length + 1,
    };
    ctx.report(
      "BL1010",
      span,
      "The Dockerfile has no FROM instruction, so there is nothing to build; start it with FROM <image> (or FROM scratch).",
    );
    return;
  }
  for (const info of ctx.model.instructions) {
    if (info === firstFrom) break;
    if (info.keyword === "ARG") continue;
    ctx.report(
      "BL1010",
      info.span,
      `${info.keyword} comes before the first FROM; only ARG may precede FROM, so move it into a stage.`,
    );
  }
};

export const stageChecks: readonly Check[] = [
  missingFrom,
  baseImageTag,
  trustedRegistry,
  duplicateStageNames,
  copyFromStage,
  unusedStages,
  platformUse,
  requiredLabels,
];
