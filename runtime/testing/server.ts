// The project's own tests use the public kit's server and connection helpers
// (testing/): a real nats-server per test file and connections to it.

export { connectTo, reconnected } from "./connect.js";
export { useConnection, useNatsServer, type NatsServerHandle } from "./vitest.js";
