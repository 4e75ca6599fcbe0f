// Pulls from a real private registry (docker-registry with htpasswd auth and TLS from a CA made
// for the test) through the agent's runtime: credentials from 0600 files reach podman only via an
// authfile, the CA via --cert-dir, and each failure names the registry and the reason.
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Podman } from "../src/runtime/podman.js";
import { PrivateDir } from "../src/runtime/private-dir.js";
import { RegistryAuth, RegistryAuthError, type RegistryConfig } from "../src/runtime/registry-auth.js";
import { type ImageRegistry, pushImage, startImageRegistry } from "./helpers/image-registry.js";
import { ensureTestImage, runPrefix } from "./helpers/podman-fixture.js";

const TOKEN = "mcr_0123456789abcdef";
let registry: ImageRegistry;
let image: string;
const dirs: PrivateDir[] = [];
const runtimes: Podman[] = [];

beforeAll(async () => {
  registry = await startImageRegistry({ mcp: "s3cret pass", token: TOKEN });
  image = `${registry.host}/${runPrefix()}/hello:1`;
  pushImage(registry, ensureTestImage(), image, "mcp", "s3cret pass");
}, 120_000);

afterAll(async () => {
  for (const runtime of runtimes) runtime.close();
  for (const dir of dirs) dir.close();
  try {
    execFileSync("podman", ["rmi", "--force", image], { stdio: "ignore" });
  } catch {
    // not pulled
  }
  await registry?.stop();
});

function secretFile(name: string, content: string, mode = 0o600): string {
  const file = join(registry.dir, name);
  writeFileSync(file, `${content}\n`, { mode });
  return file;
}

function runtimeWith(registries: RegistryConfig[]): { podman: Podman; dir: PrivateDir; auth: RegistryAuth } {
  const dir = new PrivateDir("mcp-agent-test-auth");
  dirs.push(dir);
  const auth = new RegistryAuth(registries, dir);
  const podman = new Podman({ registryAuth: auth });
  runtimes.push(podman);
  return { podman, dir, auth };
}

function removeLocal(): void {
  execFileSync("podman", ["rmi", "--force", image], { stdio: "ignore" });
}

describe("private registry pulls", () => {
  it("pulls with a user and password file through a 0600 authfile, trusting the registry's CA", async () => {
    removeLocal();
    const { podman, dir, auth } = runtimeWith([
      {
        host: registry.host,
        username: "mcp",
        passwordFile: secretFile("password", "s3cret pass"),
        caFile: registry.caFile,
      },
    ]);
    expect(await podman.imageExists(image)).toBe(false);
    await podman.ensureImage(image);
    expect(await podman.imageExists(image)).toBe(true);

    // The secret is in a 0600 file of a 0700 directory, never in podman's arguments.
    const args = auth.argsFor(image);
    expect(args.join(" ")).not.toContain("s3cret");
    const authFile = args[args.indexOf("--authfile") + 1]!;
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir.path).mode & 0o777).toBe(0o700);
    expect(args).toContain("--cert-dir");
    podman.close();
  });

  it("pulls with a token file (sent as the password of user 'token')", async () => {
    removeLocal();
    const { podman } = runtimeWith([
      { host: registry.host, tokenFile: secretFile("token", TOKEN), caFile: registry.caFile },
    ]);
    await podman.pull(image);
    expect(await podman.imageExists(image)).toBe(true);
    podman.close();
  });

  it("names the registry and the reason when credentials are wrong or missing, or the CA is unknown", async () => {
    removeLocal();
    const wrong = runtimeWith([
      {
        host: registry.host,
        username: "mcp",
        passwordFile: secretFile("wrong", "nope"),
        caFile: registry.caFile,
      },
    ]).podman;
    const denied = await wrong.pull(image).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: "PULL_FAILED", target: image });
    expect((denied as Error).message).toMatch(
      new RegExp(
        `^pulling ${image} from registry ${registry.host} \\(with the configured credentials\\) failed: .*(unauthorized|authentication required)`,
      ),
    );

    const anonymous = runtimeWith([{ host: registry.host, caFile: registry.caFile }]).podman;
    const refused = await anonymous.pull(image).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^pulling ${image} from registry ${registry.host} \\(without credentials\\) failed: .*(unauthorized|authentication required)`,
      ),
    );

    const untrusted = runtimeWith([
      { host: registry.host, username: "mcp", passwordFile: secretFile("password", "s3cret pass") },
    ]).podman;
    const unknownCa = await untrusted.pull(image).catch((e: unknown) => e);
    expect((unknownCa as Error).message).toMatch(
      new RegExp(`from registry ${registry.host} .*failed: .*certificate`),
    );
    expect(await untrusted.imageExists(image)).toBe(false);
  });

  it("refuses a credential file others can read, and an incomplete entry", () => {
    const dir = new PrivateDir("mcp-agent-test-auth");
    dirs.push(dir);
    const open = secretFile("open", "s3cret pass", 0o644);
    expect(
      () => new RegistryAuth([{ host: registry.host, username: "mcp", passwordFile: open }], dir),
    ).toThrow(
      new RegistryAuthError(
        `registry ${registry.host}: ${open} has mode 644; a credential file must be readable by its owner only (chmod 600)`,
      ),
    );
    expect(
      () => new RegistryAuth([{ host: registry.host, passwordFile: secretFile("p", "x") }], dir),
    ).toThrow("password_file needs a username");
    expect(() => new RegistryAuth([{ host: "a" }, { host: "a" }], dir)).toThrow(
      "registry a is configured twice",
    );
  });
});
