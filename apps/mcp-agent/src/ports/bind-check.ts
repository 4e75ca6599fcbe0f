// Whether a TCP port is free on this host right now: bind it on 127.0.0.1 and on 0.0.0.0 (a
// process listening on either would make the container's publish fail), then let it go.
import { createServer } from "node:net";

const HOSTS = ["127.0.0.1", "0.0.0.0"];

export async function canBind(port: number): Promise<boolean> {
  for (const host of HOSTS) {
    if (!(await bindOnce(port, host))) return false;
  }
  return true;
}

function bindOnce(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    // exclusive: a cluster worker would otherwise share a handle and always "succeed".
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
