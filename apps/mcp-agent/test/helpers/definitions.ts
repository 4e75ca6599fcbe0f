// Service definitions for tests, written as an operator would write them (TOML through mcdsl's parser).
import { parseServiceDefinition, type ServiceDefinition } from "@mcp/mcdsl/servicedef";

/** The seeds' metacrypt shape: two components, three routes. */
export function metacrypt(image = "localhost/metacrypt:1"): ServiceDefinition {
  return parseServiceDefinition(
    `name = "metacrypt"
[[components]]
name = "api"
image = "${image}"
cmd = ["httpd", "-f", "-p", "$PORT_HTTPS"]
[[components.routes]]
name = "https"
port = 443
mode = "l4"
[[components.routes]]
name = "grpc"
port = 9443
mode = "l4"
[[components]]
name = "web"
image = "${image}"
[[components.routes]]
name = "web"
port = 8443
hostname = "metacrypt.example.org"
`,
    "metacrypt.toml",
  );
}

export function oneRoute(name: string, image: string, extra = ""): ServiceDefinition {
  return parseServiceDefinition(
    `name = "${name}"
[[components]]
name = "web"
image = "${image}"
cmd = ["sh", "-c", "echo listening on $PORT; exec httpd -f -p $PORT -h /www"]
${extra}
[[components.routes]]
name = "http"
port = 443
`,
    `${name}.toml`,
  );
}
