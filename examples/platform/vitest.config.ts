import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The shared setup, plus a global setup that builds the images once per run (cached by
// images/build.sh, seconds when nothing changed) and removes the test containers afterwards.
export default mergeConfig(shared, {
  test: {
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
