import { getOption } from "@bufbuild/protobuf";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { http } from "@mcp/proto/google/api/annotations_pb.js";
import type { HttpRule } from "@mcp/proto/google/api/http_pb.js";
import { compileTemplate, matchTemplate, type PathTemplate } from "./template.js";

/** One REST binding of a unary RPC. */
export interface RestRoute {
  httpMethod: string;
  template: PathTemplate;
  /** "" (no body), "*" or a top-level request field. */
  bodyField: string;
  /** "" (the whole response) or a top-level response field. */
  responseBody: string;
  handler: UniversalHandler;
}

export type RouteMatch =
  | { route: RestRoute; pathVariables: Map<string, string> }
  | { route: undefined; allowed: string[] };

function bindings(rule: HttpRule): HttpRule[] {
  return [rule, ...rule.additionalBindings];
}

function toRoute(rule: HttpRule, handler: UniversalHandler): RestRoute | undefined {
  const { pattern } = rule;
  if (pattern.case === undefined) return undefined;
  const [httpMethod, path] =
    pattern.case === "custom" ? [pattern.value.kind, pattern.value.path] : [pattern.case, pattern.value];
  const where = `${handler.service.typeName}/${handler.method.name}`;
  let template: PathTemplate;
  try {
    template = compileTemplate(path);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  for (const name of [rule.body, rule.responseBody]) {
    const schema = name === rule.body ? handler.method.input : handler.method.output;
    if (name !== "" && name !== "*" && !schema.fields.some((f) => f.name === name)) {
      throw new Error(`${where}: HTTP rule names field "${name}", which ${schema.typeName} does not have`);
    }
  }
  return {
    httpMethod: httpMethod.toUpperCase(),
    template,
    bodyField: rule.body,
    responseBody: rule.responseBody,
    handler,
  };
}

/**
 * The REST routes of the unary RPCs that carry a `google.api.http` annotation (streaming RPCs get none),
 * most specific first: more literal segments, then a custom verb, win.
 */
export function collectRoutes(handlers: UniversalHandler[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const handler of handlers) {
    if (handler.method.methodKind !== "unary") continue;
    for (const rule of bindings(getOption(handler.method, http))) {
      const route = toRoute(rule, handler);
      if (route) routes.push(route);
    }
  }
  const seen = new Map<string, RestRoute>();
  for (const r of routes) {
    const key = `${r.httpMethod} ${r.template.regex.source}`;
    const other = seen.get(key);
    if (other) {
      throw new Error(
        `REST route ${r.httpMethod} ${r.template.source} is bound twice: ${other.handler.method.name} and ${r.handler.method.name}`,
      );
    }
    seen.set(key, r);
  }
  return routes.sort(
    (a, b) =>
      b.template.literalCount - a.template.literalCount ||
      Number(b.template.verb !== undefined) - Number(a.template.verb !== undefined),
  );
}

/** The route for a request; when only the method is wrong, the methods the path allows. */
export function matchRoute(routes: RestRoute[], httpMethod: string, rawPath: string): RouteMatch | undefined {
  const allowed: string[] = [];
  for (const route of routes) {
    const pathVariables = matchTemplate(route.template, rawPath);
    if (!pathVariables) continue;
    if (route.httpMethod === httpMethod) return { route, pathVariables };
    allowed.push(route.httpMethod);
  }
  return allowed.length > 0 ? { route: undefined, allowed } : undefined;
}
