// Every refusal of the hostname policy, including names smuggled in by case, a trailing dot or Unicode.
import { describe, expect, it } from "vitest";
import { BrokerError } from "../src/broker/errors.js";
import { normalizeHostname } from "../src/policy/hostnames.js";
import { type IssueSubject, Policy } from "../src/policy/policy.js";

const policy = new Policy({
  serviceDomain: "svc.mcp.metacircular.net",
  publicHostnames: ["www.example.org", ".apps.example.net", "bücher.example.org"],
});

function refusal(subject: IssueSubject): BrokerError {
  try {
    policy.check(subject);
  } catch (err) {
    if (err instanceof BrokerError) return err;
    throw err;
  }
  throw new Error(`policy allowed ${JSON.stringify(subject)}`);
}

const hello = (hostnames: string[], routeHostnames: string[] = []): IssueSubject => ({
  service: "hello",
  hostnames,
  routeHostnames,
});

describe("hostname normalisation", () => {
  it.each([
    ["HELLO.Svc.MCP.metacircular.net.", "hello.svc.mcp.metacircular.net"],
    ["ｈｅｌｌｏ.svc.mcp.metacircular.net", "hello.svc.mcp.metacircular.net"],
    ["hello。svc.mcp.metacircular.net", "hello.svc.mcp.metacircular.net"],
    ["Bücher.example.org", "xn--bcher-kva.example.org"],
    ["оther.svc.mcp.metacircular.net", "xn--ther-45d.svc.mcp.metacircular.net"],
  ])("%s becomes %s", (input, output) => {
    expect(normalizeHostname(input)).toBe(output);
  });

  it.each([
    "",
    "a..b.com",
    "x_y.example.org",
    "-a.example.org",
    "1.2.3.4",
    "localhost",
    "a b.com",
    "a.com..",
    "é",
  ])("refuses %j as InvalidArgument", (input) => {
    expect(() => normalizeHostname(input)).toThrow(
      expect.objectContaining({
        code: "invalid-argument",
        message: expect.stringContaining(JSON.stringify(input)),
      }),
    );
  });
});

describe("policy", () => {
  it("allows a service its own name and its declared, listed public names, normalised", () => {
    expect(
      policy.check(
        hello(
          [
            "Hello.svc.mcp.metacircular.net.",
            "WWW.example.org",
            "shop.apps.example.net",
            "BÜCHER.example.org",
          ],
          ["www.example.org.", "shop.apps.example.net", "bücher.example.org"],
        ),
      ),
    ).toEqual([
      "hello.svc.mcp.metacircular.net",
      "www.example.org",
      "shop.apps.example.net",
      "xn--bcher-kva.example.org",
    ]);
  });

  it.each([
    [["*.svc.mcp.metacircular.net"], [], "wildcard certificates are not issued"],
    [["*.example.org"], ["*.example.org"], "wildcard certificates are not issued"],
    [["＊.apps.example.net"], ["＊.apps.example.net"], "wildcard certificates are not issued"],
    [["other.svc.mcp.metacircular.net"], [], 'belongs to service "other"'],
    [
      ["OTHER.svc.mcp.metacircular.net."],
      [],
      '"other.svc.mcp.metacircular.net" (given as "OTHER.svc.mcp.metacircular.net.") is not allowed',
    ],
    [
      ["ＯTHER.svc.mcp.metacircular.net"],
      [],
      '"other.svc.mcp.metacircular.net" (given as "ＯTHER.svc.mcp.metacircular.net")',
    ],
    [
      ["оther.svc.mcp.metacircular.net"],
      [],
      '"xn--ther-45d.svc.mcp.metacircular.net" (given as "оther.svc.mcp.metacircular.net")',
    ],
    [["api.hello.svc.mcp.metacircular.net"], [], "a service gets only its own name"],
    [["svc.mcp.metacircular.net"], [], "a service gets only its own name"],
    [
      ["evil.example.com"],
      ["evil.example.com"],
      "neither under the service domain nor a listed public hostname",
    ],
    [["hello.svc.mcp.metacircular.net.evil.com"], [], "neither under the service domain"],
    [["www.example.org"], [], "none of the service's routes declares it"],
    [["apps.example.net"], ["apps.example.net"], "nor a listed public hostname"],
    [
      ["www.exаmple.org"],
      ["www.exаmple.org"],
      '"www.xn--exmple-4nf.org" (given as "www.exаmple.org") is not allowed',
    ],
  ])("refuses %j (routes %j): %s", (hostnames, routes, reason) => {
    const err = refusal(hello(hostnames, routes));
    expect(err.code).toBe("permission-denied");
    expect(err.message).toContain(reason);
    expect(err.message).toContain('for service "hello"');
  });

  it("refuses the whole request when one of its names is refused, naming that one", () => {
    const err = refusal(hello(["hello.svc.mcp.metacircular.net", "other.svc.mcp.metacircular.net"]));
    expect(err.message).toContain('"other.svc.mcp.metacircular.net"');
  });

  it("refuses a bad service name and an empty list as InvalidArgument", () => {
    expect(refusal({ service: "Hello", hostnames: ["x.example.org"], routeHostnames: [] }).code).toBe(
      "invalid-argument",
    );
    expect(refusal(hello([])).message).toBe("hostnames must list at least one DNS name");
  });
});
