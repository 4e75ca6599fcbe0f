// Every command in README.md and docs/*.md runs as written (the rules: docs/README.md). The root
// README on a fresh state folder (its `make up` brings the platform up, its `make down` stops it),
// then the pages of docs/ one after another on a platform started by scripts/dev/up.sh. Both use
// the local platform's default ports, which the pages name (dig -p 15353, curl :18053/metrics).
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DocBlock, readShellBlocks, scriptFor } from "./helpers/docs.js";
import { Platform } from "./helpers/platform.js";
import { run } from "./helpers/run.js";
import { REPO } from "./helpers/view.js";

const docPages = readdirSync(join(REPO, "docs"))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);

/** The pages with commands to run (docs/README.md, the index, has none). */
const runnablePages = docPages.filter((page) =>
  readShellBlocks(join(REPO, page)).some((b) => b.commands.length > 0),
);
let platform: Platform | undefined;

afterAll(async () => {
  await platform?.stop();
});

/**
 * The `make` the docs' commands get: `make up` and `make down` run what those Makefile targets run
 * after their build prerequisites (turbo built the apps before this suite); anything else must be
 * marked `# not run:`.
 */
function makeShim(dir: string): string {
  const bin = join(dir, ".doc-bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "make"),
    [
      "#!/usr/bin/env bash",
      'case "$*" in',
      "  up) exec scripts/dev/up.sh ;;",
      "  down) exec scripts/dev/down.sh ;;",
      '  *) echo "docs test: make $* cannot run here; mark it with # not run: (docs/README.md)" >&2; exit 2 ;;',
      "esac",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "make"), 0o755);
  return bin;
}

/** Runs a file's commands in the platform's view; fails naming the command that failed. */
async function runDoc(target: Platform, file: string, blocks: DocBlock[]): Promise<void> {
  const script = join(target.dir, ".doc-script.sh");
  const mark = join(target.dir, ".doc-mark");
  writeFileSync(script, scriptFor(blocks));
  writeFileSync(mark, "");
  const env = { ...target.env, DOC_MARK: mark, PATH: `${makeShim(target.dir)}:${target.env.PATH}` };
  const result = await run("bash", [script], { cwd: target.dir, env, timeoutMs: 240_000 });
  const last = readFileSync(mark, "utf8").trim();
  if (result.code !== 0 || last !== "done") {
    const line = Number(last);
    const command = blocks.flatMap((b) => b.commands).find((c) => c.line === line);
    throw new Error(
      `${file}:${last}: this command failed (exit ${result.code}):\n  ${command?.text ?? "?"}\n` +
        `--- stdout (end)\n${result.stdout.slice(-3000)}\n--- stderr (end)\n${result.stderr.slice(-3000)}`,
    );
  }
}

describe("the docs' reader", () => {
  it("finds every sh block, skips what is marked # not run:, and keeps continuation lines together", () => {
    const blocks = readShellBlocks(join(REPO, "docs/backup-restore.md"));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const skipped = blocks.flatMap((b) => b.skipped);
    expect(skipped.map((s) => s.text)).toContain("systemctl stop mcns");
    expect(skipped.every((s) => s.reason.length > 0)).toBe(true);
    const commands = blocks.flatMap((b) => b.commands).map((c) => c.text);
    expect(commands).toContain("mkdir -p .mcp-dev/backups");
    expect(commands.some((c) => c.startsWith("nohup node apps/mcns/dist/main.js"))).toBe(true);
    // A README command with a continuation line is one command.
    const readme = readShellBlocks(join(REPO, "README.md")).flatMap((b) => b.commands);
    expect(readme.find((c) => c.text.startsWith("curl --cacert"))?.text).toContain("\n  --resolve");
  });

  it("every page of docs/ is listed in docs/README.md, and every runnable page has commands", () => {
    const index = readFileSync(join(REPO, "docs/README.md"), "utf8");
    for (const page of docPages.filter((p) => p !== "docs/README.md")) {
      expect(index).toContain(`](${page.slice("docs/".length)})`);
      expect(runnablePages, `${page} has no command that runs`).toContain(page);
    }
  });
});

describe("the commands in README.md and docs/ run as written", () => {
  it("README.md (make up on a fresh state folder, the tour, make down)", async () => {
    const blocks = readShellBlocks(join(REPO, "README.md"));
    expect(blocks.flatMap((b) => b.commands).map((c) => c.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^make up\b/), expect.stringMatching(/^make down\b/)]),
    );
    const readme = await Platform.prepare("docs-readme", { defaultPorts: true });
    try {
      await runDoc(readme, "README.md", blocks);
    } finally {
      await readme.stop();
    }
  });

  it.each(runnablePages)("%s", async (page) => {
    const blocks = readShellBlocks(join(REPO, page));
    platform ??= await Platform.start("docs", { defaultPorts: true });
    await runDoc(platform, page, blocks);
  });
});
