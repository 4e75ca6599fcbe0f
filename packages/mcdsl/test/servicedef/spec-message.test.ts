import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/index.js";
import {
  fromServiceSpec,
  loadServiceDefinition,
  parseServiceDefinition,
  serviceDefinitionFromObject,
  serviceSpecObject,
  toServiceSpec,
} from "../../src/servicedef/index.js";

const good = (name: string) => join(import.meta.dirname, "fixtures", "good", name);

describe("ServiceSpec messages", () => {
  it.each(["hello.toml", "metacrypt.toml", "mcns.toml"])(
    "%s survives definition → spec → definition",
    (name) => {
      const definition = loadServiceDefinition(good(name));
      const back = fromServiceSpec(toServiceSpec(definition));
      // The message has no [build] context/containerfile/image (the agent does not build).
      const { build, ...rest } = definition;
      const { build: backBuild, ...backRest } = back;
      expect(backRest).toEqual(rest);
      expect(backBuild?.images).toEqual(build?.images);
    },
  );

  it("keeps health probes, timings and inactive services", () => {
    const definition = parseServiceDefinition(
      'name = "h"\nactive = false\n[[components]]\nname = "c"\nimage = "x"\n' +
        '[components.health]\nhttp = "/healthz"\ninterval = "250ms"\ndeadline = "1m"\n' +
        '[[components.routes]]\nname = "r"\nport = 443\n',
      "h.toml",
    );
    expect(fromServiceSpec(toServiceSpec(definition))).toEqual(definition);
  });

  it("refuses a spec the file format cannot express, naming it", () => {
    const spec = toServiceSpec(loadServiceDefinition(good("hello.toml")));
    spec.components[0]!.image = "Not An Image";
    expect(() => fromServiceSpec(spec, { source: "agent" })).toThrow(ConfigError);
    expect(() => fromServiceSpec(spec, { source: "agent" })).toThrow(
      /^agent:\d+: \[components\[0\]\] image: expected an image reference/,
    );
  });

  it("lays a spec out as the file's tables, for errors naming fields rather than lines", () => {
    const definition = loadServiceDefinition(good("metacrypt.toml"));
    const back = serviceDefinitionFromObject(serviceSpecObject(toServiceSpec(definition)), "agent");
    expect(back).toEqual(fromServiceSpec(toServiceSpec(definition)));
    const spec = toServiceSpec(definition);
    spec.components[0]!.image = "Not An Image";
    expect(() => serviceDefinitionFromObject(serviceSpecObject(spec), "agent metacrypt")).toThrow(
      /^agent metacrypt: \[components\[0\]\] image: expected an image reference/,
    );
  });
});
