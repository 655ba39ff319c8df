// The benchmark framework's public surface, for `agentctl bench` and `npm run bench`:
//
//   import { runBench, scenarios } from "./index.js";
//   const { exitCode } = await runBench({ registry: scenarios, scenarios: names, quick, seed, outDir });

export { runBench, BenchExit, reportBaseName, unknownScenarios, type RunBenchOptions, type RunBenchResult } from "./runner.js";
export { scenarios } from "./scenarios/index.js";
export {
  Better,
  compare,
  ratioOf,
  failed,
  errorText,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  type Metric,
  type Series,
  type LatencyRow,
  type LatencyTable,
} from "./scenario.js";
export { REPORT_VERSION, allOk, missedGoals, type BenchReport, type ReportedResult } from "./report.js";
export { collectEnvironment, type BenchEnvironment } from "./environment.js";
export { renderHtmlReport } from "./report-html.js";
export { renderTable, formatRatio, type TableOptions } from "./report-table.js";
export { lineChartSvg, latencyChartSvg, ratioChartSvg, escapeXml } from "./svg-charts.js";
export { Timeline, type TimelineEvent, type SeriesPoint, type NowFn } from "./timeline.js";
export {
  percentiles,
  percentileOfSorted,
  median,
  Histogram,
  opsPerSecond,
  msToMicros,
  timed,
  formatNumber,
  type Percentiles,
} from "./stats.js";
export { rng, freshSeed, type Rng } from "./random.js";
export {
  RAW_CONNECTION_OPTIONS,
  RAW_TUNED_OPTIONS,
  connectRawPair,
  rawPubSubThroughput,
  rawRequestLatency,
  rawRequestThroughput,
  rawKv,
  windowed,
  startEchoResponder,
  oneRequest,
  type RawTarget,
  type RawPair,
  type RawRunOptions,
  type PubSubOptions,
  type ThroughputResult,
  type RequestOptions,
  type LatencyResult,
  type WindowedRequestOptions,
  type KvOptions,
  type KvResult,
} from "./baselines/raw-nats.js";
export { rawRequestsThroughOutage, type OutageOptions, type OutageResult } from "./baselines/raw-outage.js";
export { OwnInbox } from "./baselines/own-inbox.js";
export { payload, PAYLOAD_BYTES, type Payload } from "./payload.js";
export { startChildProcess, childMain, type ChildHandle, type ChildMain, type ChildProcessOptions } from "./child-process.js";
export { sampleReport } from "./sample-report.js";
