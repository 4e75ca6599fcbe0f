// Reads the shell commands of a Markdown file (fenced ```sh blocks) and turns them into one bash
// script that runs them as written, noting each command's line before it runs so a failure names
// it. The conventions (docs/README.md): `# not run: <reason>` skips up to the next blank line or
// the block's end; `do`/`then` stay on their opening line; no here-documents.
import { readFileSync } from "node:fs";

export interface DocCommand {
  /** 1-based line in the Markdown file where the command starts. */
  line: number;
  /** The command's text, continuation lines included. */
  text: string;
}

export interface DocBlock {
  line: number;
  commands: DocCommand[];
  /** Commands shown but not run, with the reason given. */
  skipped: { line: number; text: string; reason: string }[];
}

const FENCE = /^```(\S*)\s*$/;
const NOT_RUN = /^#\s*not run:\s*(.+)$/;

/** Whether a line continues on the next one (backslash, or a trailing pipe or boolean operator). */
function continues(line: string): boolean {
  const code = line.replace(/\s+#.*$/, "").trimEnd();
  return /\\$/.test(code) || /(\||&&|\|\|)$/.test(code);
}

export function readShellBlocks(file: string): DocBlock[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: DocBlock[] = [];
  let block: DocBlock | undefined;
  let skipping: string | undefined;
  let current: DocCommand | undefined;
  let currentSkipped = false;
  for (let i = 0; i < lines.length; i += 1) {
    const text = lines[i] ?? "";
    const fence = FENCE.exec(text);
    if (!block) {
      if (fence && fence[1] === "sh") {
        block = { line: i + 1, commands: [], skipped: [] };
        skipping = undefined;
        current = undefined;
      }
      continue;
    }
    if (fence) {
      blocks.push(block);
      block = undefined;
      continue;
    }
    if (current) {
      current.text += `\n${text}`;
      if (!continues(text)) current = undefined;
      continue;
    }
    if (text.trim() === "") {
      skipping = undefined;
      continue;
    }
    const marker = NOT_RUN.exec(text.trim());
    if (marker) {
      skipping = marker[1];
      continue;
    }
    if (text.trim().startsWith("#")) continue;
    const command = { line: i + 1, text };
    if (skipping !== undefined) block.skipped.push({ ...command, reason: skipping });
    else block.commands.push(command);
    currentSkipped = skipping !== undefined;
    if (continues(text)) current = currentSkipped ? { ...command } : command;
  }
  if (block) throw new Error(`${file}:${block.line}: a \`\`\`sh block is never closed`);
  return blocks;
}

/**
 * One bash script for a file's blocks: aliases expanded (the docs use `alias mcp=…`), `set -e`, and
 * before each command its line number written to `$DOC_MARK` so the caller can name the one that
 * failed.
 */
export function scriptFor(blocks: DocBlock[]): string {
  const parts = ["shopt -s expand_aliases", "set -e", '__doc_line() { printf "%s\\n" "$1" > "$DOC_MARK"; }'];
  for (const block of blocks) {
    for (const command of block.commands) parts.push(`__doc_line ${command.line}`, command.text);
  }
  parts.push("__doc_line done");
  return `${parts.join("\n")}\n`;
}
