import { CliError } from "./errors.js";

/**
 * Reads a secret: from a terminal with a prompt and no echo, otherwise (a pipe or file) all of
 * stdin. The result is trimmed, since a trailing newline is never part of a token.
 */
export async function readSecret(prompt: string): Promise<string> {
  const text = process.stdin.isTTY ? await readFromTerminal(prompt) : await readAll();
  return text.trim();
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Raw mode: keys arrive one by one and nothing is echoed; Enter ends, Ctrl-C aborts. */
function readFromTerminal(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt appears, so nothing typed after it can show.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === "\r" || key === "\n" || key === "\u0004") return finish();
        if (key === "\u0003") return finish(new CliError("interrupted", 130));
        if (key === "\u007f" || key === "\b") value = value.slice(0, -1);
        else value += key;
      }
    };
    stdin.on("data", onData);
  });
}
