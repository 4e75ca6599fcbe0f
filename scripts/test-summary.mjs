// Adds up the vitest JSON reports of every package (packages/*, apps/*, examples/*, tests/* .tmp/) into the closing
// line CI reads: "N passed, N failed". A package whose tests should have run but left no report
// (vitest crashed, or turbo stopped before it) counts as one failure, so a crash can never look green.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
let passed = 0;
let failed = 0;
const problems = [];

for (const group of ["packages", "apps", "examples", "tests"]) {
  if (!existsSync(join(root, group))) continue;
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    const pkgFile = join(dir, "package.json");
    if (!existsSync(pkgFile) || !JSON.parse(readFileSync(pkgFile, "utf8")).scripts?.test) continue;
    const reportFile = join(dir, ".tmp/vitest-report.json");
    if (!existsSync(reportFile)) {
      failed += 1;
      problems.push(`${group}/${name}: no test report (the suite did not run to the end)`);
      continue;
    }
    const report = JSON.parse(readFileSync(reportFile, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    // A file that fails to load has no tests to count: count it as a failure of its own. CI keeps
    // only the tail of the log, so every failed test is named here, next to the closing line.
    for (const file of report.testResults ?? []) {
      for (const test of file.assertionResults ?? []) {
        if (test.status !== "failed") continue;
        const why = (test.failureMessages ?? [])[0]?.split("\n")[0] ?? "";
        problems.push(`${file.name.replace(root, "")} > ${test.fullName}: ${why.slice(0, 300)}`);
      }
      if (file.status === "failed" && (file.assertionResults ?? []).length === 0) {
        failed += 1;
        problems.push(`${file.name}: ${file.message?.split("\n")[0] ?? "failed to run"}`);
      }
    }
  }
}

// A suite can exit non-zero with every test passed: vitest fails a run on an unhandled error (an
// exception thrown outside any test), and its JSON report does not say so. Count it once.
const turboExit = Number(process.argv.find((a) => a.startsWith("--turbo-exit="))?.slice(13) ?? 0);
if (turboExit !== 0 && failed === 0) {
  failed += 1;
  problems.push("a test command failed with no failed test (an unhandled error? see its log above)");
}

for (const p of problems) console.log(`test-summary: ${p}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
