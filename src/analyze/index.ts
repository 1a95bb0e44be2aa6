// The analyze/ module's public surface: dive-class layer analysis (per-layer sizes and
// changes, dive's efficiency and waste totals) with every waste explained by the layer, the
// instruction and, given the Dockerfile, the line that caused it. Used by `berth analyze`
// and by anything else that wants an image's layer breakdown (the management API).

export { alignHistory } from "../oci/index.js";
export {
  type AnalysisTotals,
  AnalyzeError,
  type AnalyzeOptions,
  analyzeImage,
  type HistoryStep,
  type ImageAnalysis,
  type LayerAnalysis,
} from "./analyzer.js";
export { formatByteSize, parseByteSize } from "./byte-size.js";
export { type DockerfileLocation, mapHistoryToDockerfile, stageNames } from "./dockerfile-map.js";
export { computeEfficiency, type EfficiencyTotals, type Inefficiency } from "./efficiency.js";
export { LayeredFilesystem } from "./filesystem.js";
export { explainWaste, type Finding, type FindingKind, type LayerOrigin } from "./findings.js";
export { parseCreatedBy } from "./history.js";
export { analysisToJson, renderReport } from "./report.js";
export {
  evaluateThresholds,
  parseBytesThreshold,
  parseDiveCiFile,
  parseRatio,
  type RuleResult,
  ThresholdError,
  type Thresholds,
} from "./thresholds.js";
export { buildTree, renderTree, type TreeEntry } from "./tree.js";
