// The systemd units of the operator's guide (docs/systemd/): systemd-analyze verify accepts them
// with no warning. They name the node's paths (/opt/mcp, the Node in .tools); verify checks that
// ExecStart's program exists, so the copies it reads point at this repository and this Node.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./helpers/run.js";
import { REPO } from "./helpers/view.js";

const unitsDir = join(REPO, "docs/systemd");
const units = readdirSync(unitsDir).filter((name) => name.endsWith(".service"));
const scratch = mkdtempSync(join(tmpdir(), "mcp-e2e-systemd-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("docs/systemd units", () => {
  it("has one for nats-server, MCNS, cert-broker, mc-proxy and the agent", () => {
    expect(units.sort()).toEqual([
      "cert-broker.service",
      "mcns.service",
      "mcp-agent.service",
      "mcproxy-registry.service",
      "nats-server.service",
    ]);
  });

  it.each(units)("%s runs the app with its config, as the install guide says", (unit) => {
    const text = readFileSync(join(unitsDir, unit), "utf8");
    const app = unit.replace(".service", "");
    if (app === "nats-server") {
      expect(text).toMatch(/^ExecStart=\/usr\/sbin\/nats-server -js -sd \/srv\/nats /m);
      return;
    }
    // Node flags may come first (mcns and mc-proxy run with a smaller young generation).
    expect(text).toMatch(
      new RegExp(
        `^ExecStart=/opt/mcp/\\.tools/node/bin/node (--[a-z-]+(=\\S+)? )*/opt/mcp/apps/${app}/dist/main\\.js --config /etc/${app}/${app}\\.toml$`,
        "m",
      ),
    );
    expect(text).toMatch(/^Restart=on-failure$/m);
  });

  it("the agent starts after mc-proxy and keeps the containers when it stops", () => {
    const agent = readFileSync(join(unitsDir, "mcp-agent.service"), "utf8");
    expect(agent).toMatch(/^After=.*mcproxy-registry\.service/m);
    expect(agent).toMatch(/^KillMode=process$/m);
  });

  it("systemd-analyze verify accepts every unit without a warning", async (context) => {
    if ((await run("bash", ["-c", "command -v systemd-analyze"])).code !== 0) {
      context.skip("systemd-analyze is not installed");
    }
    for (const unit of units) {
      const text = readFileSync(join(unitsDir, unit), "utf8")
        .replaceAll("/opt/mcp/.tools/node/bin/node", process.execPath)
        .replaceAll("/opt/mcp/", `${REPO}/`);
      writeFileSync(join(scratch, unit), text);
    }
    const verify = await run("systemd-analyze", ["verify", ...units.map((unit) => join(scratch, unit))]);
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });
});
