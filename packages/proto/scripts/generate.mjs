// Generates src/gen from proto/ with buf + protoc-gen-es. google/api/{annotations,http}.proto come
// from the npm package google-proto-files (the Buf Schema Registry is not reachable from our machines).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const googleProtos = dirname(require.resolve("google-proto-files/package.json"));

export function copyDeps() {
  mkdirSync(join(root, ".deps/google/api"), { recursive: true });
  for (const file of ["annotations.proto", "http.proto"]) {
    copyFileSync(join(googleProtos, "google/api", file), join(root, ".deps/google/api", file));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  copyDeps();
  execFileSync("buf", ["generate"], { cwd: root, stdio: "inherit" });
}
