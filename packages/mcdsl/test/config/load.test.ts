import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { configError, schema, tempDir, writeTemp } from "./helpers.js";

const GOOD = `# mcns
[server]
listen_addr = "127.0.0.1:9443"

[dns]
port = 5300
forwarders = ["1.1.1.1:53", "9.9.9.9:53"]

[database]
path = "/srv/mcns/mcns.db"

[[zones]]
name = "svc.mcp.metacircular.net"

[[zones]]
name = "example.org"
ttl = 60
`;

describe("loadConfig with a good file", () => {
  it("returns the typed values with defaults filled", () => {
    const path = writeTemp("mcns.toml", GOOD);
    const config = loadConfig({ app: "mcns", schema, path, env: {} });
    expect(config).toEqual({
      server: { listen_addr: "127.0.0.1:9443", tls: false },
      dns: { listen: "0.0.0.0:5353", port: 5300, forwarders: ["1.1.1.1:53", "9.9.9.9:53"], recursive: false },
      database: { path: "/srv/mcns/mcns.db" },
      zones: [
        { name: "svc.mcp.metacircular.net", ttl: 300 },
        { name: "example.org", ttl: 60 },
      ],
      log: { level: "info" },
    });
  });

  it("reads the default file when no path is given", () => {
    const xdg = tempDir();
    mkdirSync(join(xdg, "mcns"));
    writeFileSync(join(xdg, "mcns", "mcns.toml"), GOOD);
    const paths = { uid: 1000, env: { XDG_CONFIG_HOME: xdg } };
    expect(loadConfig({ app: "mcns", schema, env: {}, paths }).dns.port).toBe(5300);
  });

  it("runs on defaults when the default file does not exist", () => {
    const paths = { uid: 1000, env: { XDG_CONFIG_HOME: tempDir() } };
    const config = loadConfig({ app: "mcns", schema: schema.partial({ database: true }), env: {}, paths });
    expect(config.server.listen_addr).toBe("127.0.0.1:8080");
    expect(config.database).toBeUndefined();
  });

  it("names the default file when it is missing and a key is required", () => {
    const xdg = tempDir();
    const paths = { uid: 1000, env: { XDG_CONFIG_HOME: xdg } };
    const error = configError(() => loadConfig({ app: "mcns", schema, env: {}, paths }));
    expect(error.message).toBe(`${xdg}/mcns/mcns.toml: database: required key is missing`);
  });

  it("parses text given in memory, naming the path in messages", () => {
    const error = configError(() =>
      loadConfig({ app: "mcns", schema, path: "inline.toml", file: "[database]\npath = 1\n", env: {} }),
    );
    expect(error.message).toBe("inline.toml:2: [database] path: expected a string, got 1");
  });
});

describe("loadConfig errors name the file and line", () => {
  it("maps a TOML syntax error to file:line:column", () => {
    const path = writeTemp("mcns.toml", '[dns]\nport = 53\nforwarders = ["1.1.1.1:53"\n\n[database]\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.file).toBe(path);
    // smol-toml notices the unclosed list where the next table starts.
    expect(error.issues[0]).toMatchObject({ line: 5, column: 1 });
    expect(error.message).toBe(`${path}:5:1: invalid TOML: expected comma or end of structure`);
  });

  it("reports a wrong type with the expected range and the value", () => {
    const path = writeTemp("mcns.toml", '[database]\npath = "/x"\n\n[dns]\nport = "53x"\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(`${path}:5: [dns] port: expected an integer from 1 to 65535, got "53x"`);
    expect(error.issues[0]).toMatchObject({ file: path, line: 5, column: 1, path: ["dns", "port"] });
  });

  it("reports an out-of-range number", () => {
    const path = writeTemp("mcns.toml", '[database]\npath = "/x"\n[dns]\n  port = 70000 # too big\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(`${path}:4: [dns] port: expected an integer from 1 to 65535, got 70000`);
  });

  it("reports an unknown key with the nearest known key", () => {
    const path = writeTemp("mcns.toml", '[database]\npath = "/x"\n\n[dns]\nprot = 53\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(`${path}:5: [dns] prot: unknown key (did you mean "port"?)`);
  });

  it("reports an unknown table without a far-fetched suggestion", () => {
    const path = writeTemp("mcns.toml", '[database]\npath = "/x"\n\n[metrics]\nenabled = true\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(`${path}:4: metrics: unknown key`);
  });

  it("reports a missing required key at its table's line", () => {
    const path = writeTemp("mcns.toml", '[dns]\nport = 53\n\n[database]\nfile = "/x"\n');
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.issues.map((i) => [i.line, i.message])).toEqual([
      [4, "required key is missing"],
      [5, "unknown key"],
    ]);
    expect(error.message.split("\n")[0]).toBe(`${path}:4: [database] path: required key is missing`);
  });

  it("reports a missing required table without a line", () => {
    const path = writeTemp("mcns.toml", "[dns]\nport = 53\n");
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message).toBe(`${path}: database: required key is missing`);
  });

  it("reports every problem of the file at once, in line order", () => {
    const path = writeTemp(
      "mcns.toml",
      [
        "[database]",
        'path = "/x"',
        "[log]",
        'level = "verbose"',
        "[[zones]]",
        'name = "a.example"',
        "[[zones]]",
        'name = "b.example"',
        "ttl = 0",
        "[dns]",
        'forwarders = ["1.1.1.1", 53]',
      ].join("\n"),
    );
    const error = configError(() => loadConfig({ app: "mcns", schema, path, env: {} }));
    expect(error.message.split("\n")).toEqual([
      `${path}:4: [log] level: expected one of "debug", "info", "warn", "error", got "verbose"`,
      `${path}:9: [zones[1]] ttl: expected an integer of at least 1, got 0`,
      `${path}:11: [dns] forwarders[1]: expected a string, got 53`,
    ]);
  });

  it("fails for a missing explicit file", () => {
    const error = configError(() =>
      loadConfig({ app: "mcns", schema, path: "/nonexistent/mcns.toml", env: {} }),
    );
    expect(error.message).toBe("/nonexistent/mcns.toml: cannot read the file: no such file");
  });
});
