import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The shared setup, plus one global step: the busybox test image is built once per run (test
// files running in parallel would otherwise import it concurrently).
export default mergeConfig(shared, { test: { globalSetup: ["./test/helpers/global-setup.ts"] } });
