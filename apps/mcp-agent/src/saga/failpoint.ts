// Fault injection for the crash tests: MCP_AGENT_FAILPOINT="after:<step>" or "before:<step>"
// makes the agent SIGKILL itself at that point of a saga (step names as in the journal:
// port.leased, cert.ready, container.started, health.passed, dns.published, route.added, retire,
// commit, stop). Unset (the default) it does nothing.
const spec = process.env.MCP_AGENT_FAILPOINT ?? "";

export function failpoint(when: "before" | "after", step: string): void {
  if (spec && spec === `${when}:${step}`) {
    process.stderr.write(`mcp-agent: failpoint ${spec}: killing myself\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
