// buf lint on our protos, then buf breaking against the protos of a git ref: main when we are on
// another branch, the previous commit when we are on main (each landing is checked against the one
// before it). BUF_BREAKING_AGAINST=<ref> overrides; =none skips the breaking check.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyDeps } from "./generate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, encoding: "utf8", ...opts });
const git = (...args) => run("git", args, { stdio: ["ignore", "pipe", "ignore"] }).trim();

copyDeps();
run("buf", ["lint", "proto"], { stdio: "inherit" });
console.log("buf lint: ok");

function againstRef() {
  const wanted = process.env.BUF_BREAKING_AGAINST;
  if (wanted) return wanted === "none" ? undefined : wanted;
  try {
    const branch = git("rev-parse", "--abbrev-ref", "HEAD");
    if (branch !== "main") return git("rev-parse", "--verify", "-q", "main") ? "main" : undefined;
    return git("rev-parse", "--verify", "-q", "HEAD~1") ? "HEAD~1" : undefined;
  } catch {
    return undefined;
  }
}

const ref = againstRef();
let hasProtos = false;
if (ref) {
  try {
    hasProtos = git("ls-tree", "-r", "--name-only", ref, "--", "proto").length > 0;
  } catch {
    hasProtos = false;
  }
}
if (!ref || !hasProtos) {
  console.log(`buf breaking: skipped (no earlier protos${ref ? ` at ${ref}` : ""} to compare with)`);
} else {
  // Rebuild the old module beside the same .deps so its google/api imports resolve.
  const work = mkdtempSync(join(tmpdir(), "buf-breaking-"));
  try {
    // Run from the package folder, git archive names the files relative to it: proto/...
    const archive = execFileSync("git", ["archive", ref, "proto"], { cwd: root });
    execFileSync("tar", ["-x", "-C", work], { input: archive });
    cpSync(join(root, ".deps"), join(work, ".deps"), { recursive: true });
    writeFileSync(join(work, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: .deps\n");
    const image = join(work, "against.binpb");
    run("buf", ["build", "proto", "-o", image], { cwd: work });
    run("buf", ["breaking", "proto", "--against", image], { stdio: "inherit" });
    console.log(`buf breaking: ok against ${ref}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
