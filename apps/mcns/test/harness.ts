// Starts the real mcns binary with a config in a temporary directory, and gives tests the clients a
// user has: dig, Node's own resolver, curl, and the Connect client with a bearer token.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { type Client, type Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, startApp } from "@mcp/mcdsl/testing";
import { type Record as RecordMessage, RecordSchema, RecordType } from "@mcp/proto/mcns/v1/record_pb.js";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";

export const MAIN = new URL("../dist/main.js", import.meta.url).pathname;
export const ZONE = "svc.mcp.test";
const run = promisify(execFile);

export interface Mcns {
  dir: string;
  url: string;
  dnsPort: number;
  configFile: string;
  tokens: { admin: string; agent: string; outsider: string };
  process: AppProcess;
  client(token?: string): Client<typeof RecordService>;
  restart(): Promise<void>;
  /** Starts the process again after it exited, however it ended (e.g. after process.kill()). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface McnsOptions {
  /** Extra TOML appended to the config (e.g. an [events] table). */
  extra?: string;
  dns?: string;
  /** `[[zones]]` tables instead of the default ones (svc.mcp.test and other.test). */
  zones?: string;
}

const DEFAULT_ZONES =
  `[[zones]]\nname = "${ZONE}"\nprimary_ns = "ns1.mcp.test"\nadmin_mailbox = "hostmaster.mcp.test"\n` +
  `ns = ["ns1.mcp.test", "ns2.mcp.test"]\nnegative_ttl = 60\ndefault_ttl = 300\nwriters = ["agent"]\n` +
  `[[zones]]\nname = "other.test"\nprimary_ns = "ns1.mcp.test"\nadmin_mailbox = "hostmaster.mcp.test"\n`;

export async function startMcns(options: McnsOptions = {}): Promise<Mcns> {
  const dir = mkdtempSync(join(tmpdir(), "mcns-"));
  const tokensFile = join(dir, "tokens.toml");
  const tokens = { admin: "", agent: "", outsider: "" };
  for (const [name, roles] of [
    ["admin", ["admin"]],
    ["agent", ["agent"]],
    ["outsider", ["agent"]],
  ] as const) {
    const minted = mintToken(name, [...roles]);
    appendTokenEntry(tokensFile, minted.entry);
    tokens[name] = minted.token;
  }
  const apiPort = await freePort();
  const dnsPort = await freePort();
  const configFile = join(dir, "mcns.toml");
  writeFileSync(
    configFile,
    `[server]\nlisten = "127.0.0.1:${apiPort}"\n` +
      `[dns]\nlisten = "127.0.0.1:${dnsPort}"\ntcp_idle_timeout_ms = 1000\n${options.dns ?? ""}\n` +
      `[auth]\ntokens_file = "${tokensFile}"\n[database]\npath = "${dir}/mcns.db"\n` +
      (options.zones ?? DEFAULT_ZONES) +
      `${options.extra ?? ""}\n`,
  );
  const url = `http://127.0.0.1:${apiPort}`;
  const launch = async () => {
    const p = startApp(MAIN, ["--config", configFile]);
    await p.waitReady(`${url}/readyz`);
    return p;
  };
  const mcns: Mcns = {
    dir,
    url,
    dnsPort,
    configFile,
    tokens,
    process: await launch(),
    client: (token = tokens.admin) =>
      createClient(
        RecordService,
        createConnectTransport({
          baseUrl: url,
          httpVersion: "1.1",
          interceptors: [bearerTokenInterceptor(token)],
        }),
      ),
    async restart() {
      expect0(await mcns.process.stop());
      mcns.process = await launch();
    },
    async start() {
      await mcns.process.exited();
      mcns.process = await launch();
    },
    async stop() {
      await mcns.process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return mcns;
}

function expect0(code: number | null): void {
  if (code !== 0) throw new Error(`mcns exited with ${code}`);
}

type Data = RecordMessage["data"];
/** A record message for CreateRecord: `rec("www", "A", {case: "address", value: "192.0.2.1"})`. */
export function rec(
  name: string,
  type: keyof typeof RecordType,
  data: Data,
  owner = "web",
  ttl = 0,
): RecordMessage {
  return create(RecordSchema, {
    name: name === "@" ? ZONE : name.endsWith(".test") ? name : `${name}.${ZONE}`,
    type: RecordType[type],
    data,
    owner,
    ttl,
  });
}

export const address = (value: string): Data => ({ case: "address", value });
export const target = (value: string): Data => ({ case: "target", value });

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  question: string[];
  opt?: string;
  raw: string;
}

/** Runs the real `dig @127.0.0.1 -p PORT …` and reads its output. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run("dig", [
    "@127.0.0.1",
    "-p",
    String(port),
    "+norec",
    "+time=5",
    "+tries=1",
    ...args,
  ]);
  const section = (title: string) => {
    const at = stdout.indexOf(`;; ${title} SECTION:\n`);
    if (at < 0) return [];
    const rest = stdout.slice(at).split("\n").slice(1);
    const end = rest.indexOf("");
    return rest.slice(0, end < 0 ? undefined : end).map((l) => l.replace(/\s+/g, " ").trim());
  };
  return {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? "none",
    flags: (/flags: ([\w ]+);/.exec(stdout)?.[1] ?? "").trim().split(" "),
    answer: section("ANSWER"),
    authority: section("AUTHORITY"),
    additional: section("ADDITIONAL"),
    question: section("QUESTION"),
    opt: /; EDNS: (.*)/.exec(stdout)?.[1],
    raw: stdout,
  };
}

/** A minimal query message: id, RD clear, one question of class IN. */
export function query(id: number, name: string, type: number): Buffer {
  const labels = name.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]);
  const q = Buffer.alloc(12 + labels.length + 5);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(1, 4);
  Buffer.from(labels).copy(q, 12);
  q.writeUInt16BE(type, 12 + labels.length + 1);
  q.writeUInt16BE(1, 12 + labels.length + 3);
  return q;
}

/** A call's outcome as a user reads it: "ok", or the Connect code and the message as sent. */
export async function refusal(p: Promise<unknown>): Promise<{ code: Code | "ok"; message: string }> {
  try {
    await p;
    return { code: "ok", message: "" };
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

/** Runs the offline `mcns import --config <mcns's config> …args` and returns how it ended. */
export async function importCommand(
  mcns: Mcns,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      MAIN,
      "import",
      "--config",
      mcns.configFile,
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
