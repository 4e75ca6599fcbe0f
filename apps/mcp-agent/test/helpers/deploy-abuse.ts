// The hostile deploy suites' shared parts (deploy-abuse-*.test.ts): a good definition to spoil,
// and the operator's check that a refused definition changed nothing on the node.
import { parseServiceDefinition, type ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, expect } from "vitest";
import { type Platform, removeContainers, startPlatform, ZONE } from "./platform.js";
import { runPrefix, TEST_IMAGE } from "./podman-fixture.js";
import { containers, deployEvents, dig } from "./saga-client.js";
import { proxyRoutes, registryOf } from "./world.js";

export interface AbuseFixture {
  platform: Platform;
  /** mc-proxy's listener for the suite's routes. */
  proxyPort: number;
  /** A service name of this run (its containers are removed after the suite). */
  named(suffix: string): string;
}

/** One platform for the test file: started before its tests, stopped (and cleaned) after. */
export function usePlatform(setup?: (platform: Platform) => Promise<void>): AbuseFixture {
  const prefix = runPrefix();
  const services: string[] = [];
  const fixture = {
    platform: undefined as unknown as Platform,
    proxyPort: 0,
    named(suffix: string) {
      services.push(`${prefix}-${suffix}`);
      return `${prefix}-${suffix}`;
    },
  };
  beforeAll(async () => {
    fixture.proxyPort = await freePort();
    fixture.platform = await startPlatform(prefix);
    await setup?.(fixture.platform);
  }, 60_000);
  afterAll(async () => {
    removeContainers(services);
    await fixture.platform?.stop();
  });
  return fixture;
}

/** A one-route httpd service on the given proxy port: the good definition each case spoils. */
export function goodService(name: string, proxyPort: number, extra = ""): ServiceDefinition {
  return parseServiceDefinition(
    `name = "${name}"\n[[components]]\nname = "web"\nimage = "${TEST_IMAGE}"\n` +
      `cmd = ["httpd", "-f", "-p", "$PORT", "-h", "/www"]\n${extra}\n` +
      `[[components.routes]]\nname = "http"\nport = ${proxyPort}\n`,
    `${name}.toml`,
  );
}

/** Nothing of the service anywhere: no container, lease, route, record, deploy, event or registry entry. */
export async function expectUntouched(platform: Platform, service: string): Promise<void> {
  expect(containers(service)).toEqual([]);
  expect(await proxyRoutes(platform, service)).toEqual([]);
  expect(dig(platform.dnsPort, `${service}.${ZONE}`)).toBe("");
  expect(registryOf(platform, service)).toEqual({ leases: [], routes: [], records: [], deploys: [] });
  expect(await deployEvents(platform.nats.url, service)).toEqual([]);
  const listed = (await platform.client.listServices({})).services.map((s) => s.spec?.name);
  expect(listed).not.toContain(service);
}
