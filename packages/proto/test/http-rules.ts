// Checks a service's google.api.http rules the way mcdsl's REST transcoder will rely on them: every
// unary RPC has one, streaming RPCs have none, path variables and bodies name real request fields,
// and no two RPCs answer the same method and path.
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  getOption,
  hasOption,
} from "@bufbuild/protobuf";
import { http } from "../src/gen/google/api/annotations_pb.js";
import type { HttpRule } from "../src/gen/google/api/http_pb.js";

/** One REST route of an RPC: the rule itself or one of its additional_bindings. */
export interface Route {
  verb: string;
  path: string;
  body: string;
}

/** The routes of a method, empty when it has no google.api.http option. */
export function routesOf(method: DescMethod): Route[] {
  if (!hasOption(method, http)) return [];
  const rule = getOption(method, http);
  return [rule, ...rule.additionalBindings].map(toRoute);
}

function toRoute(rule: HttpRule): Route {
  const { pattern } = rule;
  switch (pattern.case) {
    case undefined:
      return { verb: "", path: "", body: rule.body };
    case "custom":
      return { verb: pattern.value.kind.toUpperCase(), path: pattern.value.path, body: rule.body };
    default:
      return { verb: pattern.case.toUpperCase(), path: pattern.value, body: rule.body };
  }
}

/** The field paths named by a template's variables: "/v1/{a.b}/x/{c=*}:do" gives ["a.b", "c"]. */
export function pathVariables(template: string): string[] {
  return [...template.matchAll(/\{([^}=]+)(?:=[^}]*)?\}/g)].map((m) => m[1]!.trim());
}

/** The template with variable names erased, so "/v1/x/{id}" and "/v1/x/{name}" compare equal. */
function routeKey(route: Route): string {
  return `${route.verb} ${route.path.replace(/\{[^}]*\}/g, "{}")}`;
}

/** Why a dotted field path does not name a single scalar field of `message`, or undefined if it does. */
export function fieldPathProblem(message: DescMessage, fieldPath: string): string | undefined {
  let current: DescMessage = message;
  const parts = fieldPath.split(".");
  for (const [i, part] of parts.entries()) {
    const field = current.fields.find((f) => f.name === part);
    if (!field) return `${current.typeName} has no field "${part}"`;
    const last = i === parts.length - 1;
    if (!last) {
      if (field.fieldKind !== "message") return `${current.typeName}.${part} is not a message`;
      current = field.message;
    } else if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") {
      return `${current.typeName}.${part} is a ${field.fieldKind}, not a single value`;
    }
  }
  return undefined;
}

/** Every problem with the http rules of a service's methods, as sentences; empty when all is well. */
export function httpRuleProblems(service: DescService): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const method of service.methods) {
    const where = `${service.typeName}/${method.name}`;
    const routes = routesOf(method);
    if (method.methodKind !== "unary") {
      if (routes.length > 0) problems.push(`${where}: a ${method.methodKind} RPC must not have an http rule`);
      continue;
    }
    if (routes.length === 0) {
      problems.push(`${where}: unary RPC without a google.api.http rule`);
      continue;
    }
    for (const route of routes) {
      problems.push(...routeProblems(where, method.input, route));
      const key = routeKey(route);
      const other = seen.get(key);
      if (other) problems.push(`${where}: ${key} is also the route of ${other}`);
      else seen.set(key, method.name);
    }
  }
  return problems;
}

function routeProblems(where: string, input: DescMessage, route: Route): string[] {
  const problems: string[] = [];
  if (!route.verb || !route.path.startsWith("/")) {
    return [`${where}: rule has no method or its path "${route.path}" does not start with "/"`];
  }
  for (const variable of pathVariables(route.path)) {
    const problem = fieldPathProblem(input, variable);
    if (problem) problems.push(`${where}: path variable {${variable}}: ${problem}`);
  }
  if (route.body !== "" && route.body !== "*" && !input.fields.some((f) => f.name === route.body)) {
    problems.push(`${where}: body "${route.body}" is not a top-level field of ${input.typeName}`);
  }
  if ((route.verb === "GET" || route.verb === "DELETE") && route.body !== "") {
    problems.push(`${where}: ${route.verb} must not have a body`);
  }
  return problems;
}
