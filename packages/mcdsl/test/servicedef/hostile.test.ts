// Definitions a careless operator or a compromised CI could send: every value that reaches podman
// as an argument, an env-file line or a host path is checked here, so the agent refuses it before
// it leases a port (the agent's side: apps/mcp-agent/test/deploy-abuse-*.test.ts).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/index.js";
import {
  loadServiceDefinition,
  loadServiceDefinitions,
  parseServiceDefinition,
  serviceDefinitionFromObject,
  serviceSpecObject,
  toServiceSpec,
} from "../../src/servicedef/index.js";

/** A one-route component with `extra` lines in its table; the problems as "line: key: message". */
function problems(extra: string, health = ""): string[] {
  const text = `name = "svc"\n[[components]]\nname = "web"\nimage = "localhost/web:1"\n${extra}\n[[components.routes]]\nname = "http"\nport = 443\n${health}`;
  try {
    parseServiceDefinition(text, "svc.toml");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split("\n").map((line) => line.replace(/^svc\.toml:/, ""));
  }
  return [];
}

describe("volumes: the host as seen from a root container", () => {
  it.each([
    ["/:/host", "the host's root directory cannot be mounted"],
    ["/etc:/etc:U", "/etc cannot be mounted as a whole: mount the service's own directory under it"],
    ["/srv:/srv", "/srv cannot be mounted as a whole"],
    ["/tmp:/tmp", "/tmp cannot be mounted as a whole"],
    ["/var/lib:/x", "/var/lib cannot be mounted as a whole"],
    ["/proc/sysrq-trigger:/t", "/proc (the kernel's process interface) cannot be mounted"],
    ["/sys/fs/cgroup:/c", "/sys (the kernel's device and cgroup interface) cannot be mounted"],
    ["/dev/sda:/disk", "/dev (the host's devices) cannot be mounted"],
    ["/root/.ssh:/keys:ro", "/root (root's home directory) cannot be mounted"],
    ["/run/podman/podman.sock:/run/podman.sock", "/run/podman (podman's API socket) cannot be mounted"],
    ["/var/run/docker.sock:/var/run/docker.sock", "/var/run/docker.sock (docker's API socket)"],
    ["/var/lib/containers/storage:/s", "/var/lib/containers (the container runtime's storage)"],
    ["/srv/hello/../../etc:/e", 'the host path must be written plainly (no ".", ".." or "//"): "/etc"'],
    ["/srv//hello:/d", 'the host path must be written plainly (no ".", ".." or "//"): "/srv/hello"'],
    ["/srv/hello/:/d", 'the host path must be written plainly (no ".", ".." or "//"): "/srv/hello"'],
    ["/srv/hello/./x:/d", "the host path must be written plainly"],
    ["/srv/hello:/", "nothing can be mounted over the container's root directory"],
    ["/srv/hello:/data/../etc", 'the container path must be written plainly (no ".", ".." or "//")'],
    [
      "/srv/hello:/run/mcp/tls/cert.pem:ro",
      "/run/mcp/tls is where the agent mounts an L4 route's certificate",
    ],
    ["/srv/hello\n:/d", "a volume cannot contain a line feed (U+000A) at offset 10"],
    ["/srv/hello\u0000:/d", "a volume cannot contain a NUL (U+0000) at offset 10"],
  ])("%j is refused", (volume, reason) => {
    const [problem, ...more] = problems(`volumes = [${JSON.stringify(volume)}]`);
    expect(more).toEqual([]);
    expect(problem).toContain(`5: [components[0]] volumes[0]: ${reason}`);
    expect(problem).toContain(`got ${JSON.stringify(volume)}`);
  });

  it("two volumes on one container path are refused at the second, naming the first's line", () => {
    expect(problems('volumes = [\n  "/srv/a:/data",\n  "/srv/b:/data:ro",\n]')).toEqual([
      "7: [components[0]] volumes[1]: /data is already mounted (line 6)",
    ]);
  });

  it("the service's own directories under the system ones stay allowed, with any option", () => {
    expect(
      problems('volumes = ["/etc/mcns:/etc/mcns:U", "/srv/mc-proxy/certs:/certs:ro,Z", "data:/data"]'),
    ).toEqual([]);
  });

  it("the platform's own definitions (examples/) still pass", () => {
    const examples = join(import.meta.dirname, "../../../../examples");
    const files = ["services", "platform"].flatMap((dir) =>
      readdirSync(join(examples, dir))
        .filter((f) => f.endsWith(".toml"))
        .map((f) => join(examples, dir, f)),
    );
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) expect(() => loadServiceDefinition(file), file).not.toThrow();
  });
});

describe("values that reach podman's command line or env-file", () => {
  it("env values with a line break or NUL (podman's env-file is one line per variable)", () => {
    expect(problems('env = { A = "x\\ny", B = "x\\u0000y", C = "tab\\tok" }')).toEqual([
      "5: [components[0].env] A: the value contains a line feed (U+000A) at offset 1: podman's env-file holds one line per variable (put such a value in a file on a volume)",
      "5: [components[0].env] B: the value contains a NUL (U+0000) at offset 1: podman's env-file holds one line per variable (put such a value in a file on a volume)",
    ]);
    expect(problems('env = ["A=x\\r"]')[0]).toContain("env[0]: the value contains a carriage return");
  });

  it("an env variable longer than podman's env-file line", () => {
    expect(problems(`env = { A = "${"x".repeat(65_533)}" }`)).toEqual([]);
    expect(problems(`env = { A = "${"x".repeat(65_534)}" }`)).toEqual([
      "5: [components[0].env] A: A=… is 65536 bytes; podman reads at most 65535 per variable (put a larger value in a file on a volume)",
    ]);
  });

  it("env and cmd over 1 MiB together (execve's limit: the container would exit at once)", () => {
    const value = "x".repeat(60_000);
    const env = Array.from({ length: 18 }, (_, i) => `V${i} = "${value}"`).join(", ");
    expect(problems(`env = { ${env} }`)).toEqual([
      "5: [components[0]] env: env and cmd are 1080080 bytes together; a container's first process gets at most 1048576 (put large values in a file on a volume)",
    ]);
    expect(problems(`env = { ${env.split(", ").slice(0, 17).join(", ")} }`)).toEqual([]);
  });

  it("a variable set twice in the list form (one would silently win)", () => {
    expect(problems('env = ["MODE=a", "OTHER=1", "MODE=b"]')).toEqual([
      "5: [components[0]] env[2]: MODE is set twice (first at env[0])",
    ]);
  });

  it("a NUL in a command argument; line breaks stay allowed (sh -c scripts)", () => {
    expect(problems('cmd = ["sh", "-c", "a\\u0000b"]')).toEqual([
      '5: [components[0]] cmd[2]: a command argument cannot contain a NUL (U+0000) at offset 1, got "a\\u0000b"',
    ]);
    expect(problems('cmd = ["sh", "-c", "echo a\\necho b"]')).toEqual([]);
  });

  it.each(["docker-archive:backup", "oci-archive:x", "dir:srv", "oci:x", "docker-daemon:x:1", "sif:x"])(
    "the image %j names a podman transport (a file on the node), not a registry image",
    (image) => {
      const text = `name = "svc"\n[[components]]\nname = "web"\nimage = ${JSON.stringify(image)}\n`;
      expect(() => parseServiceDefinition(text, "svc.toml")).toThrow(
        `svc.toml:4: [components[0]] image: "${image.split(":")[0]}:" is a podman transport`,
      );
    },
  );

  it.each(["/health z", "/a\r\nHost: evil", "/é", "/\u0000"])(
    "the health path %j (sent as is in the probe's request line)",
    (path) => {
      const [problem, ...more] = problems("", `[components.health]\nhttp = ${JSON.stringify(path)}\n`);
      expect(more).toEqual([]);
      expect(problem).toMatch(
        /^10: \[components\[0\]\.health\] http: expected an HTTP path starting with "\/"/,
      );
    },
  );

  it.each(["a/./b", "a//b", "a/", "a\nb"])("the service path %j", (path) => {
    const text = `name = "svc"\npath = ${JSON.stringify(path)}\n[[components]]\nname = "web"\nimage = "x"\n`;
    expect(() => parseServiceDefinition(text, "svc.toml")).toThrow(
      "svc.toml:2: path: expected a relative path inside the service root",
    );
  });
});

describe("a health gate holds the service", () => {
  it("an interval under 50ms is refused (it probed a thousand times a second)", () => {
    expect(problems("", '[components.health]\ninterval = "50ms"\n')).toEqual([]);
    expect(problems("", '[components.health]\ninterval = "1ms"\n')).toEqual([
      '10: [components[0].health] interval: at least 50ms (the first probes back off from it; "1ms" probed a thousand times a second until the deadline), got "1ms"',
    ]);
  });

  it("a deadline over 10 minutes is refused (the service could not be stopped until it ends)", () => {
    const health = (deadline: string) => `[components.health]\ndeadline = "${deadline}"\n`;
    expect(problems("", health("10m"))).toEqual([]);
    expect(problems("", health("24h"))).toEqual([
      '10: [components[0].health] deadline: at most 10m: a deploy holds the service until its health gate ends (a stop is refused meanwhile), got "24h"',
    ]);
  });
});

describe("options that cancel each other", () => {
  it('legacy ports on network = "host" (podman publishes nothing; the probe waited on a port nobody opens)', () => {
    const text = `name = "svc"\n[[components]]\nname = "web"\nimage = "x"\nnetwork = "host"\nports = ["127.0.0.1:28000:8080"]\n`;
    expect(() => parseServiceDefinition(text, "svc.toml")).toThrow(
      `svc.toml:6: [components[0]] ports: nothing is published on network = "host": the app's own ports are the node's; leave out ports (or use routes)`,
    );
  });
});

describe("a probe that cannot pass", () => {
  it("an HTTP health check on an L4 route (the app speaks TLS; it waited out its deadline)", () => {
    const text = (route: string) =>
      `name = "svc"\n[[components]]\nname = "api"\nimage = "x"\n[components.health]\nhttp = "/"\n${route}` +
      `[[components.routes]]\nname = "web"\nport = 80\n[[components.routes]]\nname = "tls"\nport = 443\nmode = "l4"\n`;
    expect(() => parseServiceDefinition(text(""), "svc.toml")).not.toThrow();
    expect(() => parseServiceDefinition(text('route = "tls"\n'), "svc.toml")).toThrow(
      'svc.toml:6: [components[0].health] http: route "tls" is l4 (the app terminates TLS) and the probe speaks plain HTTP: use tcp = true',
    );
  });
});

describe("names the platform gives", () => {
  it("the zone's own name is not a service's public hostname (only <service>.<zone> is)", () => {
    const text = (hostname: string) =>
      `name = "svc"\n[[components]]\nname = "web"\nimage = "x"\n[[components.routes]]\nname = "r"\nport = 443\nhostname = "${hostname}"\n`;
    for (const hostname of ["svc.mcp.metacircular.net", "other.svc.mcp.metacircular.net"]) {
      expect(() => parseServiceDefinition(text(hostname), "svc.toml")).toThrow(
        "svc.toml:8: [components[0].routes[0]] hostname: names under svc.mcp.metacircular.net are given by the platform; this service's is svc.svc.mcp.metacircular.net",
      );
    }
    expect(() => parseServiceDefinition(text("svc.svc.mcp.metacircular.net"), "svc.toml")).not.toThrow();
  });
});

describe("a ServiceSpec message the file format cannot say", () => {
  it("a route mode the enum does not know is refused, not taken as l7", () => {
    const spec = toServiceSpec(
      parseServiceDefinition(
        'name = "svc"\n[[components]]\nname = "web"\nimage = "x"\n[[components.routes]]\nname = "r"\nport = 443\n',
        "svc.toml",
      ),
    );
    spec.components[0]!.routes[0]!.mode = 7 as RouteMode;
    expect(() => serviceDefinitionFromObject(serviceSpecObject(spec), "request")).toThrow(
      'request: [components[0].routes[0]] mode: expected one of "l4", "l7", got 7',
    );
    spec.components[0]!.routes[0]!.mode = RouteMode.UNSPECIFIED;
    const definition = serviceDefinitionFromObject(serviceSpecObject(spec), "request");
    expect(definition.components[0]?.routes[0]?.mode).toBe("l7");
  });
});

describe("the same rules for a definition sent as data (the agent's RPCs)", () => {
  it("names every field by its key path", () => {
    const data = {
      name: "svc",
      components: [
        {
          name: "web",
          image: "dir:x",
          volumes: ["/:/host"],
          env: { A: "1\n2" },
          cmd: ["\u0000"],
          health: { http: "/a b" },
          routes: [{ name: "http", port: 443 }],
        },
      ],
    };
    let message = "";
    try {
      serviceDefinitionFromObject(data, "deploy request svc");
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message.split("\n").map((line) => line.split(":").slice(0, 2).join(":"))).toEqual([
      "deploy request svc: [components[0]] image",
      "deploy request svc: [components[0]] volumes[0]",
      "deploy request svc: [components[0]] cmd[0]",
      "deploy request svc: [components[0].health] http",
      "deploy request svc: [components[0].env] A",
    ]);
  });
});

describe("sizes a deploy would run all at once", () => {
  const service = (components: number, routesEach: number) => ({
    name: "svc",
    components: Array.from({ length: components }, (_, c) => ({
      name: `c${c}`,
      image: "localhost/web:1",
      routes: Array.from({ length: routesEach }, (_, r) => ({ name: `r${c}-${r}`, port: 1000 + c * 10 + r })),
    })),
  });
  const problemsOf = (data: Record<string, unknown>) => {
    try {
      serviceDefinitionFromObject(data, "request");
    } catch (error) {
      return (error as ConfigError).message;
    }
    return "";
  };

  it("64 components and 64 routes pass; one more of either is refused, with the count", () => {
    expect(problemsOf(service(64, 1))).toBe("");
    expect(problemsOf(service(65, 0))).toBe(
      "request: components: a service has at most 64 components (a deploy starts them together), got 65",
    );
    expect(problemsOf(service(13, 5))).toBe(
      "request: components: a service has at most 64 routes in all (a port is leased for each at once), got 65",
    );
  });

  it("at most 64 volumes and ports, 4096 cmd arguments and env entries per component", () => {
    const component = {
      name: "web",
      image: "localhost/web:1",
      volumes: Array.from({ length: 65 }, (_, i) => `/srv/a:/b${i}`),
      ports: Array.from({ length: 65 }, () => "80"),
      cmd: Array.from({ length: 4097 }, () => "a"),
      env: Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`V${i}`, "1"])),
    };
    expect(problemsOf({ name: "svc", components: [component] }).split("\n")).toEqual([
      "request: [components[0]] volumes: at most 64 entries, got 65",
      "request: [components[0]] ports: at most 64 entries, got 65",
      "request: [components[0]] cmd: at most 4096 entries, got 4097",
      "request: [components[0]] env: at most 4096 entries, got 4097",
    ]);
  });

  it("a request of 50,000 components or 200,000 volumes is refused in well under a second", () => {
    const volumes = Array.from({ length: 200_000 }, (_, i) => `/srv/a:/b${i}`);
    const started = Date.now();
    expect(problemsOf({ name: "svc", components: [{ name: "c", image: "x", volumes }] })).toContain(
      "got 200000",
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("a request of 50,000 components is refused in well under a second", () => {
    const started = Date.now();
    expect(problemsOf(service(50_000, 0))).toContain("got 50000");
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("definition files that are not definitions (the CLI reads a whole directory)", () => {
  it("a FIFO, a device, a directory and a 2 MiB file named *.toml are refused at once, naming each", () => {
    const dir = mkdtempSync(join(tmpdir(), "servicedef-files-"));
    try {
      execFileSync("mkfifo", [join(dir, "fifo.toml")]);
      symlinkSync("/dev/zero", join(dir, "zero.toml"));
      mkdirSync(join(dir, "dir.toml"));
      writeFileSync(join(dir, "big.toml"), `name = "big"\n# ${"x".repeat(2 * 1024 * 1024)}\n`);
      expect(() => loadServiceDefinition(join(dir, "big.toml"))).toThrow(
        `${dir}/big.toml: the file is 2097168 bytes; a definition has at most 1048576`,
      );
      let message = "";
      try {
        loadServiceDefinitions(dir);
      } catch (error) {
        message = (error as ConfigError).message;
      }
      expect(message.split("\n")).toEqual([
        `${dir}/big.toml: the file is 2097168 bytes; a definition has at most 1048576`,
        `${dir}/dir.toml: cannot read the file: not a regular file`,
        `${dir}/fifo.toml: cannot read the file: not a regular file`,
        `${dir}/zero.toml: cannot read the file: not a regular file`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
