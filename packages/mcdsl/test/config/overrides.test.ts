import { describe, expect, it } from "vitest";
import * as z from "zod";
import { listenAddress, loadConfig, parseListenAddress, section } from "../../src/config/index.js";
import { configError, schema, writeTemp } from "./helpers.js";

const FILE = '[database]\npath = "/srv/mcns/mcns.db"\n\n[dns]\nport = 53\n';

function load(env: NodeJS.ProcessEnv) {
  return loadConfig({ app: "mcns", schema, path: writeTemp("mcns.toml", FILE), env });
}

describe("$APP_* environment overrides", () => {
  it("overrides a key, converting to its type", () => {
    const config = load({ MCNS_DNS_PORT: "5353", MCNS_DNS_RECURSIVE: "true", MCNS_LOG_LEVEL: "debug" });
    expect(config.dns.port).toBe(5353);
    expect(config.dns.recursive).toBe(true);
    expect(config.log.level).toBe("debug");
  });

  it("resolves keys that contain underscores, and tables the file leaves out", () => {
    const config = load({ MCNS_SERVER_LISTEN_ADDR: "0.0.0.0:9000" });
    expect(config.server.listen_addr).toBe("0.0.0.0:9000");
  });

  it("splits lists on commas", () => {
    const config = load({ MCNS_DNS_FORWARDERS: "1.1.1.1:53, 9.9.9.9:53" });
    expect(config.dns.forwarders).toEqual(["1.1.1.1:53", "9.9.9.9:53"]);
  });

  it("uses the app name upper-cased with - as _", () => {
    const s = z.object({ api: section({ token_file: z.string().default("") }) });
    const config = loadConfig({
      app: "cert-broker",
      schema: s,
      path: writeTemp("cb.toml", ""),
      env: { CERT_BROKER_API_TOKEN_FILE: "/run/token" },
    });
    expect(config.api.token_file).toBe("/run/token");
  });

  it("ignores variables that match no key", () => {
    expect(load({ MCNS_NOT_A_KEY: "1", MCNSX: "2" }).dns.port).toBe(53);
  });

  it("names the variable when its value is bad", () => {
    const error = configError(() => load({ MCNS_DNS_PORT: "53x" }));
    expect(error.message).toBe('$MCNS_DNS_PORT: [dns] port: expected an integer from 1 to 65535, got "53x"');
    expect(error.issues[0]).toMatchObject({ source: "$MCNS_DNS_PORT", path: ["dns", "port"] });
  });

  it("names the variable for a bad boolean and a bad enum value", () => {
    const error = configError(() => load({ MCNS_DNS_RECURSIVE: "maybe", MCNS_LOG_LEVEL: "loud" }));
    expect(error.message.split("\n").sort()).toEqual([
      '$MCNS_DNS_RECURSIVE: [dns] recursive: expected true or false, got "maybe"',
      '$MCNS_LOG_LEVEL: [log] level: expected one of "debug", "info", "warn", "error", got "loud"',
    ]);
  });

  it("refuses a variable that could set two keys", () => {
    const s = z.object({
      a_b: section({ c: z.string().default("") }),
      a: section({ b_c: z.string().default("") }),
    });
    const error = configError(() =>
      loadConfig({ app: "x", schema: s, path: writeTemp("x.toml", ""), env: { X_A_B_C: "1" } }),
    );
    expect(error.message).toBe("$X_A_B_C: ambiguous: it could set [a_b] c and [a] b_c");
  });
});

describe("$PORT and $PORT_<NAME>", () => {
  it("$PORT replaces the port of the main listener and keeps its host", () => {
    const config = load({ PORT: "9000" });
    expect(config.server.listen_addr).toBe("127.0.0.1:9000");
    expect(config.dns.listen).toBe("0.0.0.0:5353");
  });

  it("$PORT_<NAME> replaces the named listener, over the file and $APP_* values", () => {
    const config = load({ PORT_DNS: "10053", MCNS_DNS_LISTEN: "10.0.0.1:53", PORT: "9000" });
    expect(config.dns.listen).toBe("10.0.0.1:10053");
    expect(config.server.listen_addr).toBe("127.0.0.1:9000");
  });

  it("$PORT_<NAME> wins over $PORT for the main listener", () => {
    expect(load({ PORT: "9000", PORT_API: "9001" }).server.listen_addr).toBe("127.0.0.1:9001");
  });

  it("$PORT goes to the only listener of an app that marks none main", () => {
    const s = z.object({ http: section({ addr: listenAddress("http").default("[::1]:80") }) });
    const config = loadConfig({
      app: "web",
      schema: s,
      path: writeTemp("w.toml", ""),
      env: { PORT: "8080" },
    });
    expect(config.http.addr).toBe("[::1]:8080");
    expect(parseListenAddress(config.http.addr)).toEqual({ host: "::1", port: 8080 });
  });

  it("names the variable when it is not a port", () => {
    const error = configError(() => load({ PORT: "http" }));
    expect(error.message).toBe(
      '$PORT: [server] listen_addr: expected a port number from 1 to 65535, got "http"',
    );
    const error2 = configError(() => load({ PORT_DNS: "70000" }));
    expect(error2.message).toBe(
      '$PORT_DNS: [dns] listen: expected a port number from 1 to 65535, got "70000"',
    );
  });

  it("validates listen addresses written in the file", () => {
    const path = writeTemp("mcns.toml", '[database]\npath = "/x"\n[server]\nlisten_addr = "localhost"\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(
      `${path}:4: [server] listen_addr: expected host:port such as 127.0.0.1:8080, got "localhost"`,
    );
  });
});
