import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The shared setup, with one change: test files run one after another. Each file brings up a whole
// platform, and every platform's hello route needs mc-proxy port 8443 (fixed in
// examples/services/hello.toml), so two at once would collide; the generous timeouts cover a
// platform's start (about 10 s) and the image builds on a cold cache.
export default mergeConfig(shared, {
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
