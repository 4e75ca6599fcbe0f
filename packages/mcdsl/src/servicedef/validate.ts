// The one path every definition takes, from a file or from a request: its size first (a huge
// one is refused before the field-by-field work, which costs time per component), then the
// schema, the cross-field rules, and normalization.
import { ConfigError, type ConfigIssue, type KeyPath } from "../config/errors.js";
import { checkSchema, type IssueContext, issueAt } from "../config/validate.js";
import { checkService, checkSize } from "./checks.js";
import { normalize } from "./normalize.js";
import { list } from "./raw.js";
import { serviceSchema } from "./schema.js";
import type { ServiceDefinition } from "./types.js";

/** Validates parsed definition data; a ConfigError lists every problem, each placed by `context`. */
export function validateDefinition(
  data: Record<string, unknown>,
  context: IssueContext,
  domain: string,
): ServiceDefinition {
  const report = (issues: ConfigIssue[]) => ({
    domain,
    report: (path: KeyPath, message: string) => issues.push(issueAt(context, path, message)),
    lineOf: (path: KeyPath) => context.positions?.find(path)?.line,
  });
  const sizeIssues: ConfigIssue[] = [];
  checkSize(list(data.components), report(sizeIssues));
  if (sizeIssues.length > 0) throw new ConfigError(sizeIssues);

  const result = checkSchema(serviceSchema, data, context);
  const issues = result.ok ? [] : result.issues;
  checkService(data, report(issues));
  if (!result.ok || issues.length > 0) throw new ConfigError(issues);
  return normalize(result.value, domain);
}
