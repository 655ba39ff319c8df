// The registry of benchmark scenarios, in the order `agentctl bench` runs them.

import type { Scenario } from "../scenario.js";
import { clusterScenario } from "./cluster.js";
import { coordinationScenario } from "./coordination.js";
import { crashStormScenario } from "./crash-storm.js";
import { dashboardScenario } from "./dashboard.js";
import { durableScenario } from "./durable.js";
import { interopScenario } from "./interop.js";
import { memoryScenario } from "./memory.js";
import { modelScenario } from "./model.js";
import { nodeKillScenario } from "./node-kill.js";
import { rawScenario } from "./raw.js";
import { scaleScenario } from "./scale.js";
import { securityScenario } from "./security.js";
import { serverRestartScenario } from "./server-restart.js";
import { throughputScenario } from "./throughput.js";

/** Every scenario `agentctl bench` knows. */
export const scenarios: Scenario[] = [
  rawScenario,
  throughputScenario,
  securityScenario,
  memoryScenario,
  crashStormScenario,
  nodeKillScenario,
  serverRestartScenario,
  durableScenario,
  scaleScenario,
  clusterScenario,
  modelScenario,
  coordinationScenario,
  interopScenario,
  dashboardScenario,
];
