import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/servicedef/duration.js";
import { checkImage } from "../../src/servicedef/image.js";
import { checkHostname, checkLabel, checkRestart } from "../../src/servicedef/names.js";
import { parsePortMapping } from "../../src/servicedef/port-mapping.js";
import { parseVolume } from "../../src/servicedef/volume.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("field syntax", () => {
  it("durations", () => {
    expect(parseDuration("50ms")).toBe(50);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2h")).toBe(7_200_000);
    for (const bad of ["5", "", "0s", "5 s", "5sec", "-1s", "s"])
      expect(parseDuration(bad)).toBeTypeOf("string");
  });

  it("image references", () => {
    for (const good of [
      "nginx",
      "localhost/hello:1",
      "localhost:5000/a/b:v1.0",
      `a@${DIGEST}`,
      "[::1]:5000/x:y",
      "a_b__c-d.e",
    ]) {
      expect(checkImage(good), good).toBeUndefined();
    }
    for (const bad of ["Nginx", "a:", ":tag", "a//b", "a:tag:more", "", "a@sha256:short"]) {
      expect(checkImage(bad), bad).toMatch(/expected an image reference/);
    }
  });

  it("names and hostnames", () => {
    expect(checkLabel("web-1")).toBeUndefined();
    expect(checkLabel("a".repeat(63))).toBeUndefined();
    for (const bad of ["a".repeat(64), "-a", "a-", "A", "a.b", ""])
      expect(checkLabel(bad), bad).toBeDefined();
    expect(checkHostname("docs.metacircular.net")).toBeUndefined();
    for (const bad of ["localhost", "1.2.3.4", "a..b", "a.b.", "-a.b"])
      expect(checkHostname(bad), bad).toBeDefined();
    expect(checkRestart("on-failure:3")).toBeUndefined();
    expect(checkRestart("sometimes")).toBeDefined();
  });

  it("legacy port mappings", () => {
    expect(parsePortMapping("8080:80")).toEqual({
      spec: "8080:80",
      hostPort: 8080,
      containerPort: 80,
      protocol: "tcp",
    });
    expect(parsePortMapping("127.0.0.1::80")).toEqual({
      spec: "127.0.0.1::80",
      hostIp: "127.0.0.1",
      containerPort: 80,
      protocol: "tcp",
    });
    expect(parsePortMapping("53/udp")).toMatchObject({ containerPort: 53, protocol: "udp" });
    for (const bad of ["80/xyz", "1.2.3.4:5:6:7", "0", "a:80", "[::1]:80", "[nope]:1:2", ""]) {
      expect(parsePortMapping(bad), bad).toBeTypeOf("string");
    }
  });

  it("volumes", () => {
    expect(parseVolume("/a:/b:ro,z")).toEqual({
      spec: "/a:/b:ro,z",
      source: "/a",
      target: "/b",
      options: ["ro", "z"],
    });
    for (const bad of ["/a", "/a:b", "a b:/c", "/a:/b:ro:extra", "/a:/b:"]) {
      expect(parseVolume(bad), bad).toBeTypeOf("string");
    }
  });
});
