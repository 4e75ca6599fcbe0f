import { describe, expect, it } from "vitest";
import { validateEventType, validateFilter } from "../../src/events/index.js";

describe("event types", () => {
  it.each([
    "mcp.deploy.hello.started",
    "mcp.deploy.hello-web.cert.ready",
    "mcp.deploy.hello.rolled_back",
    "mcp.cert.renewed",
    "mcp.route.switched",
    "mcp.dns.deleted",
    "mcp.container.hello.web.died",
    "mcp.backup.finished", // not catalogued: free-form, still valid
    "mcp.x",
  ])("accepts %s", (type) => {
    expect(() => validateEventType(type)).not.toThrow();
  });

  it.each([
    ["deploy.hello.started", 'it must start with "mcp."'],
    ["mcp.", 'token "" is not [a-z0-9_-]+ (empty token)'],
    ["mcp.cert..issued", "empty token"],
    ["mcp.Cert.issued", 'token "Cert" is not [a-z0-9_-]+'],
    ["mcp.cert.*", 'token "*" is not [a-z0-9_-]+'],
    ["mcp.cert.>", 'token ">" is not'],
    ["mcp.route added", 'token "route added"'],
    [
      "mcp.dns.created.www.example.com",
      "expected mcp.dns.{created,updated,deleted}; hostnames and record names go in",
    ],
    ["mcp.cert.bogus", "expected mcp.cert.{issued,renewed,expiring,revoked}"],
    ["mcp.deploy.hello", "expected mcp.deploy.<service>.{started,port.leased,"],
    ["mcp.deploy.hello.finished", "expected mcp.deploy.<service>."],
    ["mcp.deploy.hello_web.started", 'service "hello_web" is not [a-z0-9-]+'],
    ["mcp.container.hello.died", "expected mcp.container.<service>.<component>.{died,restarted,drift}"],
  ])("refuses %s", (type, why) => {
    expect(() => validateEventType(type)).toThrow(
      expect.objectContaining({ code: "INVALID_TYPE", message: expect.stringContaining(`"${type}": `) }),
    );
    expect(() => validateEventType(type)).toThrow(why);
  });
});

describe("event filters", () => {
  it.each(["mcp.>", "mcp.cert.renewed", "mcp.deploy.*.failed", "mcp.container.hello.>"])(
    "accepts %s",
    (f) => {
      expect(() => validateFilter(f)).not.toThrow();
    },
  );

  it.each([
    [">", 'it must start with "mcp."'],
    ["mcp.>.x", '">" may only be the last token'],
    ["mcp.dns.www.example.com*", 'token "com*"'],
    ["mcp..x", 'token ""'],
  ])("refuses %s", (f, why) => {
    expect(() => validateFilter(f)).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
    expect(() => validateFilter(f)).toThrow(why);
  });
});
