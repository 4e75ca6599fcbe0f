// startApp runs an app as it ships: with the Node flags of its shebang line.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shebangFlags, startApp } from "../../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "mcdsl-app-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("shebangFlags", () => {
  it("reads the flags of a `#!/usr/bin/env -S node …` line", () => {
    const main = script(
      "a.mjs",
      "#!/usr/bin/env -S node --max-semi-space-size=8 --single-threaded-gc\nexport {};\n",
    );
    expect(shebangFlags(main)).toEqual(["--max-semi-space-size=8", "--single-threaded-gc"]);
  });

  it("finds none without flags, without a shebang, or with something other than node", () => {
    expect(shebangFlags(script("b.mjs", "#!/usr/bin/env node\n"))).toEqual([]);
    expect(shebangFlags(script("c.mjs", "console.log(1);\n"))).toEqual([]);
    expect(shebangFlags(script("d.mjs", "#!/usr/bin/env -S python3 -u\n"))).toEqual([]);
    expect(shebangFlags(script("e.mjs", "#!/usr/bin/env -S node --flag; rm -rf /\n"))).toEqual([]);
    expect(shebangFlags(join(dir, "missing.mjs"))).toEqual([]);
  });

  it("is what startApp starts the app with", async () => {
    const main = script(
      "f.mjs",
      "#!/usr/bin/env -S node --max-semi-space-size=8 --single-threaded-gc\nprocess.stdout.write(JSON.stringify(process.execArgv));\n",
    );
    const app = startApp(main, []);
    expect(await app.exited()).toBe(0);
    expect(JSON.parse(app.stdout())).toEqual(["--max-semi-space-size=8", "--single-threaded-gc"]);
  });
});
