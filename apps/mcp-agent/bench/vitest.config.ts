import { defineConfig } from "vitest/config";

// The benchmark runs through vitest only to reuse the test helpers (the platform, the image);
// it is not part of the test suite (test/** is).
export default defineConfig({
  test: {
    include: ["bench/**/*.bench-run.ts"],
    globalSetup: ["./test/helpers/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
