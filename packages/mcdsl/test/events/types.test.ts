// Compile-time checks of the event catalogue: `tsc -p tsconfig.json` (the typecheck task) fails if a
// known type stops checking its data, or an unknown one stops accepting JSON.
import type { JsonObject } from "@bufbuild/protobuf";
import { describe, expectTypeOf, it } from "vitest";
import type { EventBus, EventData } from "../../src/events/index.js";

describe("EventData", () => {
  it("gives known types their shape and others free-form JSON", () => {
    expectTypeOf<EventData<"mcp.cert.renewed">>().toEqualTypeOf<{
      hostname: string;
      serial: string;
      previousSerial: string;
      notAfter: string;
    }>();
    expectTypeOf<EventData<"mcp.deploy.hello.cert.ready">["hostname"]>().toEqualTypeOf<string>();
    expectTypeOf<EventData<`mcp.deploy.${string}.completed`>>().toEqualTypeOf<{
      service: string;
      durationMs: number;
    }>();
    expectTypeOf<EventData<"mcp.container.hello.web.died">["exitCode"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<EventData<"mcp.backup.done">>().toEqualTypeOf<JsonObject>();
    expectTypeOf<EventData<string>>().toEqualTypeOf<JsonObject>();
    expectTypeOf<EventData<"mcp.cert.bogus">>().toBeNever();
  });

  it("makes publish check known types' data", () => {
    // Only compiled, never run: the bus is not connected.
    const check = (bus: EventBus, service: string) => {
      void bus.publish(`mcp.deploy.${service}.completed`, { service, durationMs: 5 });
      void bus.publish("mcp.route.removed", { routeId: "r", hostname: "h", port: 443 });
      void bus.publish("mcp.backup.done", { anything: ["goes", 1, true, null] });
      // @ts-expect-error durationMs is missing
      void bus.publish(`mcp.deploy.${service}.completed`, { service });
      // @ts-expect-error port must be a number
      void bus.publish("mcp.route.removed", { routeId: "r", hostname: "h", port: "443" });
      // @ts-expect-error not a fact of mcp.cert
      void bus.publish("mcp.cert.bogus", {});
    };
    expectTypeOf(check).toBeFunction();
  });
});
