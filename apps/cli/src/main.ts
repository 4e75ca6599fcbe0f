#!/usr/bin/env node
import { run } from "./run.js";

// `mcp events | grep -q …` or `| head`: the reader has what it wanted and closed the pipe. That is
// the end of the output, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2));
