// Test runner configuration: unit tests (x.test.ts) and tests against a real
// nats-server (x.int.test.ts) sit beside the code they cover.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{runtime,actors,supervisors,cli,bench}/**/*.test.ts"],
    exclude: ["dist/**", "node_modules/**"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
