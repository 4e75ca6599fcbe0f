import { defineConfig } from "vitest/config";

// Every package writes a JSON report that scripts/test-summary.mjs adds up for CI.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/vitest-report.json" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
