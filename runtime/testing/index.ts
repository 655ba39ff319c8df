// `troupe/testing`: what a user needs to test their own agents. A throwaway
// nats-server (random loopback port, its own store, removed on dispose), test
// connections, a fake clock that drives a live node's receive timeouts,
// backoff and shutdown (`startNode({ clock })`), polling with a deadline, and
// event recorders. Vitest hooks are in `troupe/testing/vitest`; this entry
// needs no test runner.
//
//   const server = await startNatsServer();
//   const clock = new FakeClock(Date.now());
//   const node = await startNode({ servers: server.url, agents: [myAgent], clock });
//   ...
//   await clock.advance(5_000);
//   await node.close();
//   await server.dispose();

export {
  startNatsServer,
  findNatsServer,
  NatsServerMissingError,
  type NatsServer,
  type NatsServerOptions,
  type NatsServerTls,
} from "./nats-server.js";
export type { TestCertificates, CertificateFiles } from "./tls-certificates.js";
export { startSecureNatsServer, type SecureNatsServer } from "./secure-server.js";
export { startNatsCluster, type NatsCluster, type ClusterServer, type NatsClusterOptions } from "./nats-cluster.js";
export { connectTo, reconnected } from "./connect.js";
export { FakeClock, type Clock } from "../clock.js";
export { waitFor } from "./wait.js";
export { recordEvents, nextEvent, type EventFilter, type EventSource, type EventRecording } from "./events.js";
export { measureElection, type Election, type ElectionOptions } from "./election-time.js";
export { startModelServer, type ModelServer, type ModelServerOptions } from "./model-server.js";
export {
  rateLimitError,
  contextLengthError,
  serverError,
  lastUserText,
  toolResults,
  messageText,
  FinishReason,
  type ModelScript,
  type ModelStep,
  type ModelResponder,
  type ReplyStep,
  type ErrorStep,
  type DropStep,
  type ScriptedError,
  type ScriptedToolCall,
  type ScriptedUsage,
  type ChatMessage,
  type ChatRequest,
} from "./model-script.js";
