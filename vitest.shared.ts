import { defineConfig } from "vitest/config";

// The one test setup every package uses (each package's vitest.config.ts re-exports it): tests in
// test/**, and a JSON report that scripts/test-summary.mjs adds up into CI's closing line.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/vitest-report.json" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
