import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/index.js";
import {
  formatServiceDefinition,
  loadServiceDefinition,
  loadServiceDefinitions,
  parseServiceDefinition,
} from "../../src/servicedef/index.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
const good = (name: string) => join(FIXTURES, "good", name);
const bad = (name: string) => join(FIXTURES, "bad", name);

/** The error lines of a bad fixture, without the directory part of the file name. */
function problems(file: string): string[] {
  try {
    loadServiceDefinition(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split("\n").map((line) => line.replace(`${FIXTURES}/`, ""));
  }
  throw new Error(`${file} loaded without errors`);
}

describe("good definitions", () => {
  it("normalizes a one-route component: $PORT, both hostnames, health from the file", () => {
    const hello = loadServiceDefinition(good("hello.toml"));
    expect(hello).toMatchObject({ name: "hello", node: "node1", active: true, path: "hello" });
    expect(hello.build).toEqual({
      context: ".",
      containerfile: "Containerfile",
      image: "localhost/hello:1",
      images: {},
      usesMcdsl: false,
    });
    const [web] = hello.components;
    expect(web?.routes).toEqual([
      {
        name: "https",
        port: 443,
        mode: "l7",
        hostname: "hello.example.org",
        hostnames: ["hello.svc.mcp.metacircular.net", "hello.example.org"],
        portVariable: "PORT",
      },
    ]);
    expect(web?.env).toEqual({ GREETING: "hi", WORKERS: "4" });
    expect(web?.volumes).toEqual([
      { spec: "/srv/hello/data:/data:ro", source: "/srv/hello/data", target: "/data", options: ["ro"] },
    ]);
    expect(web?.health).toEqual({
      kind: "http",
      path: "/healthz",
      route: "https",
      intervalMs: 500,
      timeoutMs: 2000,
      deadlineMs: 60_000,
    });
    // network, user and restart are the agent's defaults to fill.
    expect(web?.network).toBeUndefined();
    expect(web?.user).toBeUndefined();
  });

  it("gives each route of a multi-route component its own variable, and a TCP health check", () => {
    const metacrypt = loadServiceDefinition(good("metacrypt.toml"));
    const [api, web] = metacrypt.components;
    expect(api?.routes.map((r) => [r.name, r.mode, r.portVariable])).toEqual([
      ["rest", "l4", "PORT_REST"],
      ["grpc", "l4", "PORT_GRPC"],
    ]);
    expect(api?.health).toMatchObject({ kind: "tcp", route: "rest", timeoutMs: 5000, deadlineMs: 30_000 });
    expect(web?.routes[0]?.portVariable).toBe("PORT");
    expect(web?.routes[0]?.hostnames).toEqual(["metacrypt.svc.mcp.metacircular.net"]);
    expect(metacrypt.build?.images).toEqual({
      metacrypt: "Dockerfile.api",
      "metacrypt-web": "Dockerfile.web",
    });
  });

  it("accepts the legacy ports form and KEY=VALUE env lists", () => {
    const mcns = loadServiceDefinition(good("mcns.toml"));
    expect(mcns.active).toBe(false);
    const [coredns, worker] = mcns.components;
    expect(coredns?.ports).toEqual([
      {
        spec: "127.0.0.1:28443:8443",
        hostIp: "127.0.0.1",
        hostPort: 28443,
        containerPort: 8443,
        protocol: "tcp",
      },
      { spec: "[::1]:53:53/udp", hostIp: "::1", hostPort: 53, containerPort: 53, protocol: "udp" },
      { spec: "9153", containerPort: 9153, protocol: "tcp" },
    ]);
    expect(coredns?.env).toEqual({ ZONE: "svc.mcp.metacircular.net", EMPTY: "" });
    expect(coredns).toMatchObject({ network: "mcpnet", user: "0:0", restart: "unless-stopped" });
    expect(coredns?.health).toMatchObject({ kind: "tcp", hostPort: 28443 });
    expect(worker?.health.kind).toBe("none");
  });

  it("uses the service domain it is given", () => {
    const text =
      'name = "a"\n[[components]]\nname = "c"\nimage = "x"\n[[components.routes]]\nname = "r"\nport = 1\n';
    const definition = parseServiceDefinition(text, "a.toml", { domain: "svc.example.net" });
    expect(definition.components[0]?.routes[0]?.hostnames).toEqual(["a.svc.example.net"]);
  });

  it.each(["hello.toml", "metacrypt.toml", "mcns.toml"])(
    "%s round-trips through formatServiceDefinition",
    (name) => {
      const definition = loadServiceDefinition(good(name));
      const text = formatServiceDefinition(definition);
      expect(parseServiceDefinition(text, `exported-${name}`)).toEqual(definition);
    },
  );
});

describe("bad definitions: every problem, each at its line", () => {
  it("a TOML syntax error", () => {
    expect(problems(bad("syntax.toml"))).toEqual([
      "bad/syntax.toml:4:12: invalid TOML: control characters are not allowed in strings",
    ]);
  });

  it("wrong types, unknown keys, out-of-range ports and modes", () => {
    expect(problems(bad("types.toml"))).toEqual([
      'bad/types.toml:2: active: expected true or false, got "yes"',
      "bad/types.toml:4: [components[0]] image: required key is missing",
      'bad/types.toml:6: [components[0]] imgae: unknown key (did you mean "image"?)',
      'bad/types.toml:7: [components[0]] cmd: expected a list of strings, got "httpd -f"',
      "bad/types.toml:11: [components[0].routes[0]] port: expected an integer from 1 to 65535, got 70000",
      'bad/types.toml:12: [components[0].routes[0]] mode: expected one of "l4", "l7", got "l5"',
    ]);
  });

  it("names, duplicates, port-variable collisions and hostnames", () => {
    const label = 'expected a name of a-z, 0-9 and "-" (not first or last), at most 63 characters';
    expect(problems(bad("names.toml"))).toEqual([
      `bad/names.toml:1: name: ${label}, got "Hello_World"`,
      `bad/names.toml:2: node: ${label}, got "-node1"`,
      'bad/names.toml:11: [components[0].routes[0]] hostname: wildcard hostnames are not allowed (one certificate per name), got "*.example.org"',
      `bad/names.toml:14: [components[0].routes[1]] name: ${label}, got "a_b"`,
      'bad/names.toml:14: [components[0].routes[1]] name: route "a_b" would get the same port variable $PORT_A_B as route "a-b"',
      'bad/names.toml:16: [components[0].routes[1]] hostname: hostnames are written in lower case, got "Hello.Example.org"',
      'bad/names.toml:19: [components[1]] name: duplicate component name "web" (first at line 5)',
      'bad/names.toml:23: [components[1].routes[0]] name: duplicate route name "a-b" (first at line 9)',
      "bad/names.toml:25: [components[1].routes[0]] hostname: names under svc.mcp.metacircular.net are given by the platform; this service's is Hello_World.svc.mcp.metacircular.net",
    ]);
  });

  it("images, volumes, env, cmd, health, proxy-port conflicts and legacy ports", () => {
    const usage = 'expected [ip:][host port:]container port[/tcp|udp|sctp] such as "127.0.0.1:28443:8443"';
    expect(problems(bad("conflicts.toml"))).toEqual([
      'bad/conflicts.toml:5: [components[0]] image: expected an image reference such as "registry.example:5000/name:tag" (lower-case name), got "Localhost/Hello:1"',
      'bad/conflicts.toml:6: [components[0]] volumes[0]: unknown volume option "bogus" (known: ro, rw, z, Z, U, O, nocopy, …), got "data:/x:rw,bogus"',
      'bad/conflicts.toml:6: [components[0]] volumes[1]: the source must be an absolute path or a volume name, got "./relative:/x"',
      "bad/conflicts.toml:7: [components[0]] cmd[2]: $PORT_ADMIN is not set for this component: its port variables are $PORT_HTTPS, $PORT_API",
      'bad/conflicts.toml:8: [components[0].env] 1BAD: expected an environment variable name (letters, digits, "_", not starting with a digit), got "1BAD"',
      'bad/conflicts.toml:8: [components[0].env] PORT_HTTPS: PORT_HTTPS is set by the agent (the leased port of route "https")',
      "bad/conflicts.toml:8: [components[0].env] TLS_CERT_FILE: TLS_CERT_FILE is set by the agent (for the component's L4 routes)",
      "bad/conflicts.toml:9: [components[0]] ports: a component has routes or ports, not both (ports is the legacy form: move them to [[components.routes]])",
      "bad/conflicts.toml:13: [components[0].health] tcp: a health check is http or tcp, not both",
      'bad/conflicts.toml:14: [components[0].health] route: the component has no route "admin": its routes are "https", "api"',
      'bad/conflicts.toml:15: [components[0].health] interval: expected a duration such as "500ms", "5s" or "1m30s", got "5"',
      "bad/conflicts.toml:16: [components[0].health] deadline: the deadline (2000 ms) is shorter than one probe's timeout (5000 ms)",
      'bad/conflicts.toml:25: [components[0].routes[1]] port: route "api" and route "https" (line 20) both serve hello.svc.mcp.metacircular.net on port 443',
      `bad/conflicts.toml:31: [components[1]] ports[0]: ${usage}, got "127.0.0.1:99999:80"`,
      'bad/conflicts.toml:31: [components[1]] ports[1]: port ranges are not supported, got "8000-8010:80"',
      "bad/conflicts.toml:31: [components[1]] ports[2]: host port 127.0.0.1:28443/tcp is already mapped (line 9)",
      'bad/conflicts.toml:31: [components[1]] ports[3]: "localhost" is not an IPv4 address, got "localhost:80:80"',
      'bad/conflicts.toml:32: [components[1]] env[1]: expected "KEY=VALUE", got "NOEQUALS"',
    ]);
  });

  it("health checks with nothing to probe, and cmd using $PORT without routes", () => {
    expect(problems(bad("health.toml"))).toEqual([
      "bad/health.toml:6: [components[0]] cmd[2]: $PORT is not set for this component: it has no routes",
      "bad/health.toml:7: [components[0].env] NESTED: expected a string, number or boolean, got a table",
      "bad/health.toml:9: [components[0]] health: nothing to probe: the component has no routes and no ports with a host port",
      'bad/health.toml:10: [components[0].health] http: expected an HTTP path starting with "/", got "healthz" (printable ASCII without spaces: escape others as %XX)',
      "bad/health.toml:12: [components[0].health] retries: unknown key",
    ]);
  });

  it("a file without a name or components (whole-file problems have no line)", () => {
    expect(problems(bad("empty.toml"))).toEqual([
      "bad/empty.toml: name: required key is missing",
      "bad/empty.toml: components: a service needs at least one [[components]] table",
    ]);
  });
});

describe("loadServiceDefinitions", () => {
  it("loads every *.toml of a directory, sorted by name", () => {
    const names = loadServiceDefinitions(join(FIXTURES, "good")).map((d) => d.name);
    expect(names).toEqual(["hello", "mcns", "metacrypt"]);
  });

  it("refuses the whole directory when a file is not named after its service", () => {
    let error: unknown;
    try {
      loadServiceDefinitions(join(FIXTURES, "services"));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `${FIXTURES}/services/coredns.toml:2: name: the file must be named after its service: mcns.toml`,
    );
  });

  it("collects the problems of every bad file", () => {
    let error: unknown;
    try {
      loadServiceDefinitions(join(FIXTURES, "bad"));
    } catch (caught) {
      error = caught;
    }
    const files = new Set(
      (error as ConfigError).issues.map((issue) => issue.file?.replace(`${FIXTURES}/`, "")),
    );
    expect([...files].sort()).toEqual([
      "bad/conflicts.toml",
      "bad/empty.toml",
      "bad/health.toml",
      "bad/names.toml",
      "bad/syntax.toml",
      "bad/types.toml",
    ]);
  });

  it("finds no definitions in a directory that does not exist", () => {
    expect(loadServiceDefinitions(join(FIXTURES, "nowhere"))).toEqual([]);
  });
});
