// The pure parts of the runtime: a definition's component to the container podman creates,
// port variables, podman's event lines, image references to registries.

import { parseServiceDefinition } from "@mcp/mcdsl/servicedef";
import { describe, expect, it } from "vitest";
import { buildContainerSpec, DEFAULT_CONTAINER_DEFAULTS } from "../src/runtime/container-spec.js";
import { parseEvent } from "../src/runtime/events.js";
import { expandPortVariables } from "../src/runtime/port-variables.js";
import { registryOf } from "../src/runtime/registry-auth.js";
import { metacrypt, oneRoute } from "./helpers/definitions.js";

describe("buildContainerSpec", () => {
  it("fills the agent's defaults, sets $PORT, expands it in cmd and publishes it on 127.0.0.1", () => {
    const definition = oneRoute("hello", "localhost/hello:1", 'env = { GREETING = "hi" }');
    const spec = buildContainerSpec({
      service: "hello",
      component: definition.components[0]!,
      deployId: "D1",
      hostPorts: { http: 10123 },
      defaults: DEFAULT_CONTAINER_DEFAULTS,
    });
    expect(spec).toEqual({
      name: "hello-web",
      image: "localhost/hello:1",
      network: "mcpnet",
      user: "0:0",
      restart: "unless-stopped",
      volumes: [],
      cmd: ["sh", "-c", "echo listening on 10123; exec httpd -f -p 10123 -h /www"],
      env: { GREETING: "hi", PORT: "10123" },
      publish: [{ hostIp: "127.0.0.1", hostPort: 10123, containerPort: 10123, protocol: "tcp" }],
      labels: { "mcp.managed": "true", "mcp.service": "hello", "mcp.component": "web", "mcp.deploy": "D1" },
      stopTimeoutS: undefined,
    });
  });

  it("gives a component with several routes $PORT_<ROUTE> each and keeps the definition's own settings", () => {
    const api = metacrypt().components[0]!;
    api.network = "host";
    api.user = "1000:1000";
    const spec = buildContainerSpec({
      service: "metacrypt",
      component: api,
      deployId: "D2",
      hostPorts: { https: 10001, grpc: 10002 },
      defaults: { ...DEFAULT_CONTAINER_DEFAULTS, stopTimeoutS: 3 },
      name: "metacrypt-api-next",
      extraEnv: { TLS_CERT_FILE: "/run/tls/cert.pem" },
      extraVolumes: ["/srv/certs/m.pem:/run/tls/cert.pem:ro"],
    });
    expect(spec).toMatchObject({
      name: "metacrypt-api-next",
      network: "host",
      user: "1000:1000",
      cmd: ["httpd", "-f", "-p", "10001"],
      env: { PORT_HTTPS: "10001", PORT_GRPC: "10002", TLS_CERT_FILE: "/run/tls/cert.pem" },
      publish: [], // host network: nothing to publish
      volumes: ["/srv/certs/m.pem:/run/tls/cert.pem:ro"],
      stopTimeoutS: 3,
    });
  });

  it("keeps legacy port mappings as written and refuses a route without a leased port", () => {
    const legacy = parseServiceDefinition(
      'name = "old"\n[[components]]\nname = "app"\nimage = "localhost/old:1"\nports = ["127.0.0.1:28443:8443"]\n',
      "old.toml",
    ).components[0]!;
    const spec = buildContainerSpec({
      service: "old",
      component: legacy,
      deployId: "D",
      hostPorts: {},
      defaults: DEFAULT_CONTAINER_DEFAULTS,
    });
    expect(spec.publish).toEqual([
      { hostIp: "127.0.0.1", hostPort: 28443, containerPort: 8443, protocol: "tcp" },
    ]);
    expect(spec.env).toEqual({});

    const web = oneRoute("hello", "localhost/hello:1").components[0]!;
    expect(() =>
      buildContainerSpec({
        service: "hello",
        component: web,
        deployId: "D",
        hostPorts: {},
        defaults: DEFAULT_CONTAINER_DEFAULTS,
      }),
    ).toThrow("route http of component web has no leased port");
  });
});

describe("expandPortVariables", () => {
  it("expands $PORT and the braced form by the longest name and leaves other variables alone", () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's braced form, as operators write it
      expandPortVariables(["-p", "$PORT", "--grpc=${PORT_GRPC}", "$PORT_GRPC/x", "$HOME", "$PORTS"], {
        PORT: 1,
        PORT_GRPC: 2,
      }),
    ).toEqual(["-p", "1", "--grpc=2", "2/x", "$HOME", "$PORTS"]);
  });

  it("refuses a port variable the component does not get", () => {
    expect(() => expandPortVariables(["$PORT_ADMIN"], { PORT: 1 })).toThrow(
      "cmd refers to $PORT_ADMIN, which this component does not get (it has: PORT)",
    );
  });
});

describe("parseEvent", () => {
  it("reads podman 4's event lines and skips what is not a container event", () => {
    const line =
      '{"ContainerExitCode":137,"ID":"ca68","Image":"localhost/agx:1","Name":"agx1","Status":"died",' +
      '"Time":"2026-11-22T00:28:44.744685103Z","Type":"container","Attributes":{"mcp.service":"x"}}';
    expect(parseEvent(line)).toEqual({
      containerId: "ca68",
      containerName: "agx1",
      status: "died",
      exitCode: 137,
      image: "localhost/agx:1",
      time: new Date("2026-11-22T00:28:44.744Z"),
      labels: { "mcp.service": "x" },
    });
    expect(parseEvent('{"Type":"image","Status":"pull"}')).toBeUndefined();
    expect(parseEvent("not json")).toBeUndefined();
  });
});

describe("registryOf", () => {
  it("finds the registry of an image reference by docker's rule", () => {
    expect(registryOf("mcr.metacircular.net/platform/mcns:1")).toBe("mcr.metacircular.net");
    expect(registryOf("127.0.0.1:5000/x:1")).toBe("127.0.0.1:5000");
    expect(registryOf("localhost/x:1")).toBe("localhost");
    expect(registryOf("library/busybox")).toBe("docker.io");
    expect(registryOf("busybox")).toBe("docker.io");
  });
});
