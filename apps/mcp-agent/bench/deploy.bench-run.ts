// `mcp deploy` of a one-route service against a plain `podman run` of the same image with a port
// mapping, measured in the same run, each until its first HTTP answer: the deploy through the
// whole platform (lease, certificate, container, health gate, DNS record, mc-proxy route; the
// answer over HTTPS through mc-proxy with the chain verified), podman run on its mapped port.
// Prints the medians and the ratio (issue 7's target: at most 1.5).
import { execFileSync } from "node:child_process";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, it } from "vitest";
import { oneRoute } from "../test/helpers/definitions.js";
import { type Platform, removeContainers, startPlatform, ZONE } from "../test/helpers/platform.js";
import { runPrefix, TEST_IMAGE } from "../test/helpers/podman-fixture.js";
import { deploy } from "../test/helpers/saga-client.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const prefix = runPrefix();
let platform: Platform;
const services: string[] = [];

beforeAll(async () => {
  platform = await startPlatform(prefix);
});

afterAll(async () => {
  removeContainers(services);
  await platform?.stop();
});

async function until(fn: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

it("deploy vs podman run, until the first HTTP answer", async () => {
  const plain: number[] = [];
  const deploys: number[] = [];
  let steps: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const name = `${prefix}-plain-${i}`;
    let start = performance.now();
    execFileSync(
      "podman",
      [
        "run",
        "-d",
        "--name",
        name,
        "-p",
        `127.0.0.1:${port}:${port}`,
        TEST_IMAGE,
        "httpd",
        "-f",
        "-p",
        String(port),
        "-h",
        "/www",
      ],
      { stdio: "ignore" },
    );
    await until(async () => (await curl(`http://127.0.0.1:${port}/`)).status === 200);
    plain.push(performance.now() - start);
    execFileSync("podman", ["rm", "--force", "--time", "0", name], { stdio: "ignore" });

    const service = `${prefix}-b${i}`;
    services.push(service);
    const definition = oneRoute(service, TEST_IMAGE);
    const proxyPort = await freePort();
    definition.components[0]!.routes[0]!.port = proxyPort;
    const host = `${service}.${ZONE}`;
    start = performance.now();
    const run = await deploy(platform.client, definition);
    if (run.error) throw run.error;
    await until(
      async () =>
        (
          await curl(
            "--cacert",
            platform.rootCa,
            "--resolve",
            `${host}:${proxyPort}:127.0.0.1`,
            `https://${host}:${proxyPort}/`,
          )
        ).status === 200,
    );
    deploys.push(performance.now() - start);
    if (i === RUNS - 1) {
      const t0 = Number(run.responses[0]!.time!.seconds) * 1000 + run.responses[0]!.time!.nanos / 1e6;
      steps = run.responses.map(
        (r) =>
          `${r.message.slice(0, 40)} +${(Number(r.time!.seconds) * 1000 + r.time!.nanos / 1e6 - t0).toFixed(0)} ms`,
      );
    }
    await platform.client.stopService({ name: service });
  }
  const p = median(plain);
  const d = median(deploys);
  console.log(
    [
      `runs: ${RUNS} (median of each)`,
      `podman run -p, until HTTP 200:                 ${p.toFixed(0)} ms   (all: ${plain.map((x) => x.toFixed(0)).join(", ")})`,
      `mcp deploy (full saga), until HTTPS 200 via mc-proxy: ${d.toFixed(0)} ms   (all: ${deploys.map((x) => x.toFixed(0)).join(", ")})`,
      `ratio deploy / podman run: ${(d / p).toFixed(2)} (target ≤ 1.5)`,
      "the last deploy's steps (time since started):",
      ...steps.map((s) => `  ${s}`),
    ].join("\n"),
  );
});
