// The DNS benchmark: MCNS against NSD and a naive dns2 handler, in the same run, with the same
// query file and dnsperf parameters (1,000 names, 10% of them missing; UDP and TCP; -c 4 -q 50).
// Usage: sh bench/setup.sh && node bench/run.mjs   (BENCH_SECONDS=10 per run by default)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const here = new URL(".", import.meta.url).pathname;
const main = join(here, "../dist/main.js");
const dir = mkdtempSync(join(tmpdir(), "mcns-bench-"));
const zone = "bench.test";
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

// 1,000 names; every tenth query asks for a name that does not exist.
const addresses = {};
for (let i = 0; i < 900; i++) addresses[`host${i}.${zone}`] = `10.0.${i >> 8}.${i & 255}`;
const queries = [];
for (let i = 0; i < 1000; i++)
  queries.push(i % 10 === 9 ? `missing${i}.${zone} A` : `host${(i * 7) % 900}.${zone} A`);
writeFileSync(join(dir, "queries.txt"), `${queries.join("\n")}\n`);
writeFileSync(join(dir, "names.json"), JSON.stringify(addresses));
const soa = `@ 300 IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 1209600 300\n@ 300 IN NS ns1.${zone}.\n`;
const records = Object.entries(addresses)
  .map(([name, a]) => `${name}. 300 IN A ${a}`)
  .join("\n");
writeFileSync(join(dir, "bench.zone"), `$ORIGIN ${zone}.\n$TTL 300\n${soa}${records}\n`);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(command, args) {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  child.on("exit", (code) => {
    if (code) process.stderr.write(`${command} exited ${code}: ${err}\n`);
  });
  children.push(child);
  return child;
}

async function waitForDns(port) {
  for (let i = 0; i < 200; i++) {
    try {
      const out = execFileSync("dig", [
        "@127.0.0.1",
        "-p",
        String(port),
        `host1.${zone}`,
        "A",
        "+short",
        "+time=1",
        "+tries=1",
      ]);
      if (out.toString().trim() !== "") return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers DNS on port ${port}`);
}

function dnsperf(port, tcp) {
  const args = ["-s", "127.0.0.1", "-p", String(port), "-d", join(dir, "queries.txt"), "-c", "4", "-q", "50"];
  args.push("-l", String(seconds), "-v", ...(tcp ? ["-m", "tcp"] : []));
  const out = execFileSync("dnsperf", args, { maxBuffer: 1 << 30 }).toString();
  const latencies = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("> ") && !line.startsWith("> T ")) latencies.push(Number(line.split(" ").at(-1)));
  }
  latencies.sort((a, b) => a - b);
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    lost: Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? -1),
    p99ms: (latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN) * 1000,
  };
}

// MCNS: the zone imported with `mcns import`, served by the real binary.
const mcnsPort = await freePort();
const apiPort = await freePort();
writeFileSync(join(dir, "tokens.toml"), "", { mode: 0o600 });
writeFileSync(
  join(dir, "mcns.toml"),
  `[server]\nlisten = "127.0.0.1:${apiPort}"\n[dns]\nlisten = "127.0.0.1:${mcnsPort}"\n[database]\npath = "${dir}/mcns.db"\n` +
    `[auth]\ntokens_file = "${dir}/tokens.toml"\n[log]\nlevel = "warn"\n` +
    `[[zones]]\nname = "${zone}"\nprimary_ns = "ns1.${zone}"\nadmin_mailbox = "hostmaster.${zone}"\n`,
);
execFileSync(process.execPath, [main, "import", "--config", join(dir, "mcns.toml"), join(dir, "bench.zone")]);
start(process.execPath, ["--max-semi-space-size=8", main, "--config", join(dir, "mcns.toml")]);

// NSD with the same zone, on its own high port, in the foreground.
const nsdPort = await freePort();
writeFileSync(
  join(dir, "nsd.conf"),
  `server:\n  ip-address: 127.0.0.1\n  port: ${nsdPort}\n  username: ""\n  zonesdir: "${dir}"\n  database: ""\n` +
    `  pidfile: "${dir}/nsd.pid"\n  xfrdfile: "${dir}/xfrd.state"\n  zonelistfile: "${dir}/zone.list"\n` +
    `  xfrdir: "${dir}"\n  logfile: "${dir}/nsd.log"\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\nremote-control:\n  control-enable: no\n` +
    `zone:\n  name: ${zone}\n  zonefile: bench.zone\n`,
);
start("/usr/sbin/nsd", ["-d", "-c", join(dir, "nsd.conf")]);

// The naive dns2 handler.
const dns2Port = await freePort();
start(process.execPath, [join(here, "dns2-naive.mjs"), String(dns2Port), join(dir, "names.json")]);

const servers = [
  ["mcns", mcnsPort],
  ["nsd", nsdPort],
  ["dns2 (naive)", dns2Port],
];
for (const [, port] of servers) await waitForDns(port);

const results = {};
for (const transport of ["udp", "tcp"]) {
  for (const [name, port] of servers) {
    results[`${name} ${transport}`] = dnsperf(port, transport === "tcp");
  }
}

console.log(`\ndnsperf -c 4 -q 50 -l ${seconds}, 1,000 names (10% missing), same machine\n`);
console.log("server            transport        QPS   p99 ms   lost");
for (const [key, r] of Object.entries(results)) {
  const [name, transport] = [key.slice(0, key.lastIndexOf(" ")), key.slice(key.lastIndexOf(" ") + 1)];
  console.log(
    `${name.padEnd(17)} ${transport.padEnd(9)} ${r.qps.toFixed(0).padStart(10)} ${r.p99ms.toFixed(2).padStart(8)} ${String(r.lost).padStart(6)}`,
  );
}
const ratio = (a, b) => (results[b].qps > 0 ? (results[a].qps / results[b].qps).toFixed(2) : "n/a");
console.log(
  `\nmcns / nsd          UDP ${ratio("mcns udp", "nsd udp")}   TCP ${ratio("mcns tcp", "nsd tcp")}   (target UDP ≥ 0.5)`,
);
console.log(
  `mcns / dns2 (naive) UDP ${ratio("mcns udp", "dns2 (naive) udp")}   TCP ${ratio("mcns tcp", "dns2 (naive) tcp")}   (target UDP ≥ 1.3)`,
);
process.exit(0);
