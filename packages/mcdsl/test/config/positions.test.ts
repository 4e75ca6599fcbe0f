import { describe, expect, it } from "vitest";
import { parseTomlSource } from "../../src/config/index.js";

// Each key's expected line is written in the file itself, so the test reads like the file.
const TEXT = `title = "positions"            # 1
owner.name = "kyle"             # 2
"quoted key".x = 1              # 3
doc = """                       # 4
[not.a.table]
fake = 1
"""
lit = '''a = [1]'''             # 8
when = 1979-05-27 07:32:00Z     # 9

[server]                        # 11
listen = "127.0.0.1:80"         # 12
env = { A = "1", nested = { b = 2 } }   # 13
list = [                        # 14
  "one",                        # 15
  # a comment ] with a bracket
  "two, with a comma",          # 17
]

[[components]]                  # 20
name = "web"                    # 21
[[components.routes]]           # 22
name = "https"                  # 23
[[components.routes]]           # 24
port = 8443                     # 25
[components.health]             # 26
http = "/healthz"               # 27

[[components]]                  # 29
name = "api"                    # 30
routes = [{ name = "grpc" }, { name = "rest", port = 9443 }]  # 31
[build]                         # 32
mode = 'l4'                     # 33
`;

describe("SourcePositions", () => {
  const { data, positions } = parseTomlSource(TEXT, "positions.toml");
  const line = (...path: (string | number)[]) => positions.exact(path)?.line;

  it("finds top-level, dotted and quoted keys after multi-line strings", () => {
    expect(line("title")).toBe(1);
    expect(line("owner", "name")).toBe(2);
    expect(line("quoted key", "x")).toBe(3);
    expect(line("doc")).toBe(4);
    expect(line("not")).toBeUndefined();
    expect(line("lit")).toBe(8);
    expect(line("when")).toBe(9);
  });

  it("finds table keys, inline tables and list elements", () => {
    expect(line("server")).toBe(11);
    expect(line("server", "listen")).toBe(12);
    expect(line("server", "env", "A")).toBe(13);
    expect(line("server", "env", "nested", "b")).toBe(13);
    expect(line("server", "list", 0)).toBe(15);
    expect(line("server", "list", 1)).toBe(17);
    expect(positions.exact(["server", "env", "nested", "b"])?.column).toBe(29);
  });

  it("numbers arrays of tables, nested under the current element", () => {
    expect(line("components", 0)).toBe(20);
    expect(line("components", 0, "name")).toBe(21);
    expect(line("components", 0, "routes", 0, "name")).toBe(23);
    expect(line("components", 0, "routes", 1, "port")).toBe(25);
    expect(line("components", 0, "health", "http")).toBe(27);
    expect(line("components", 1, "name")).toBe(30);
    expect(line("components", 1, "routes", 1, "port")).toBe(31);
    expect(line("build", "mode")).toBe(33);
  });

  it("agrees with the parsed data", () => {
    const components = data.components as { routes: unknown[] }[];
    expect(components[1]?.routes).toHaveLength(2);
    expect(line("components", 0, "routes", 1)).toBe(24);
  });

  it("falls back to the nearest enclosing key for paths the file does not write", () => {
    expect(positions.find(["components", 0, "routes", 0, "port"])?.line).toBe(22);
    expect(positions.find(["server", "missing"])?.line).toBe(11);
    expect(positions.find(["nothing"])).toBeUndefined();
  });
});
