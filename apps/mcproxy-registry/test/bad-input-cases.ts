// The case tables of bad-input.test.ts: bad config keys and bad routes, each with the message it
// must get (helpers in bad-input-setup.ts).
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { ConfigSet } from "./bad-input-setup.js";

const ms = "expected an integer from 0 to 3600000, got";
/** Config keys that must stop the start: [what, keys set (raw TOML), the message, environment]. */
export const configRefusals: [string, ConfigSet, string, NodeJS.ProcessEnv?][] = [
  ["a TOML syntax error (with the column)", { "proxy.handshake_timeout_ms": "= 3" }, "{at}:24: invalid TOML"],
  [
    "an unknown key (not ignored)",
    { "proxy.handshake_timout_ms": "3" },
    '{at}: {key}: unknown key (did you mean "handshake_timeout_ms"?)',
  ],
  ["an unknown table", { "prxy.bind": '"127.0.0.1"' }, '{at}: prxy: unknown key (did you mean "proxy"?)'],
  ["a string for a number", { "proxy.connect_timeout_ms": '"5000"' }, `{at}: {key}: ${ms} "5000"`],
  ["a negative timeout", { "proxy.idle_timeout_ms": "-1" }, `{at}: {key}: ${ms} -1`],
  [
    "max_connections -1",
    { "proxy.max_connections": "-1" },
    "{at}: {key}: expected an integer from 0 to 10000000, got -1",
  ],
  [
    "port 70000 in listen",
    { "server.listen": '"127.0.0.1:70000"' },
    '{at}: {key}: expected host:port such as 127.0.0.1:8080, got "127.0.0.1:70000"',
  ],
  [
    "a relative directory in extra_cert_dirs",
    { "proxy.extra_cert_dirs": '["certs"]' },
    "{at}: [proxy] extra_cert_dirs[0]: expected an absolute path",
  ],
  [
    "a missing tokens file",
    { "auth.tokens_file": '"{dir}/no.toml"' },
    "{dir}/no.toml: cannot read the token file: ENOENT",
  ],
  [
    "a tokens file that is a directory",
    { "auth.tokens_file": '"{dir}"' },
    "{dir}: cannot read the file: EISDIR",
  ],
  [
    "a database under a regular file",
    { "database.path": '"{dir}/mcproxy.toml/r.db"' },
    "cannot open database {dir}/mcproxy.toml/r.db: a part of {dir}/mcproxy.toml is a file, not a directory",
  ],
  [
    "a database where none can be made",
    { "database.path": '"/proc/r.db"' },
    "cannot open database /proc/r.db: unable to open database file",
  ],
  [
    "$MCPROXY_REGISTRY_PROXY_IDLE_TIMEOUT_MS=abc",
    {},
    `$MCPROXY_REGISTRY_PROXY_IDLE_TIMEOUT_MS: [proxy] idle_timeout_ms: ${ms} "abc"`,
    { MCPROXY_REGISTRY_PROXY_IDLE_TIMEOUT_MS: "abc" },
  ],
  [
    "$PORT=99999",
    {},
    '$PORT: [server] listen: expected a port number from 1 to 65535, got "99999"',
    { PORT: "99999" },
  ],
];

const [IA, FP] = [Code.InvalidArgument, Code.FailedPrecondition];
export const notDns = (h: string) => `hostname: ${JSON.stringify(h)} is not a DNS name`;
export const notHostPort = (a: string) => `backends[0].address: ${JSON.stringify(a)} is not host:port`;
const [label64, long254] = [`${"a".repeat(64)}.test`, `${"a.".repeat(126)}ab`];
export const one = (address: string, weight = 1): { backends: JsonObject[] } => ({
  backends: [{ address, weight }],
});
const [L7, mode] = ["ROUTE_MODE_L7", "route.mode: must be ROUTE_MODE_L4 or ROUTE_MODE_L7"];
const l7 = (certFile: string, keyFile: string) => ({ mode: L7, certificate: { certFile, keyFile } });
const [pem, unusable] = ["{certs}/good.test.pem", "cannot be used: error:"];
const unreadable = (file: string) => `certificate file ${file} cannot be read: no such file`;
/**
 * Routes AddRoute must refuse: [what, fields over a valid L4 route, code, message (socket), message
 * over REST when it differs]; `{certs}` is the cert_dir, where good.test and other.test are issued.
 */
export const badRoutes: [string, JsonObject, Code, string, string?][] = [
  ["an empty hostname", { hostname: "" }, IA, notDns("")],
  ["a 64-character label", { hostname: label64 }, IA, notDns(label64)],
  ["a 254-character hostname", { hostname: long254 }, IA, notDns(long254)],
  ["a wildcard", { hostname: "*.example.com" }, IA, notDns("*.example.com")],
  ["unicode (not punycode)", { hostname: "bücher.example" }, IA, notDns("bücher.example")],
  ["a hostname with a port", { hostname: "bad.test:443" }, IA, notDns("bad.test:443")],
  ["an IPv6 address as hostname", { hostname: "::1" }, IA, 'hostname: "::1" is an IP address'],
  ["listener_port 0", { listenerPort: 0 }, IA, "listener_port: 0 is not a port from 1 to 65535"],
  ["listener_port 65536", { listenerPort: 65536 }, IA, "listener_port: 65536 is not a port from 1 to 65535"],
  // Refused while decoding; Connect JSON (the socket) and REST both name the field.
  [
    "listener_port -1",
    { listenerPort: -1 },
    IA,
    "route.listenerPort (listener_port): expected an integer from 0 to 4294967295, got -1",
  ],
  ["no backends", { backends: [] }, IA, "backends: at least one backend is required"],
  ["a backend without a port", one("backend.test"), IA, notHostPort("backend.test")],
  ["a backend on port 0", one("127.0.0.1:0"), IA, notHostPort("127.0.0.1:0")],
  ["a backend [zz]:80", one("[zz]:80"), IA, notHostPort("[zz]:80")],
  ["a backend :80", one(":80"), IA, notHostPort(":80")],
  [
    "a backend twice",
    { backends: [{ address: "[::1]:9" }, { address: "[::1]:9" }] },
    IA,
    'backends[1].address: "[::1]:9" is listed twice',
  ],
  [
    "a weight of -5",
    one("127.0.0.1:9", -5),
    IA,
    "route.backends[0].weight: expected an integer from 0 to 4294967295, got -5",
  ],
  ["mode l5", { mode: "l5" }, IA, 'route.mode: "l5" is not one of: ROUTE_MODE_L4, ROUTE_MODE_L7'],
  ["mode unspecified", { mode: "ROUTE_MODE_UNSPECIFIED" }, IA, mode],
  [
    "an L4 route with a certificate",
    { ...l7(pem, "{certs}/good.test.key"), mode: "ROUTE_MODE_L4" },
    IA,
    "certificate: an L4 route passes TLS through and takes no certificate",
  ],
  ["an L7 route whose files do not exist", { mode: L7 }, FP, unreadable("{certs}/bad.test.pem")],
  ["an L7 route whose key does not exist", l7(pem, "{certs}/no.key"), FP, unreadable("{certs}/no.key")],
  [
    "another certificate's key",
    l7(pem, "{certs}/other.test.key"),
    FP,
    `certificate ${pem} with key {certs}/other.test.key ${unusable}05800074:x509 certificate routines::key values mismatch`,
  ],
  // API routes name files only under cert_dir (and [proxy] extra_cert_dirs): the process is often
  // root. Refused before anything is read; nothing echoed.
  [
    "/etc/passwd as certificate",
    l7("/etc/passwd", "/etc/passwd"),
    IA,
    `certificate.cert_file: "/etc/passwd" is outside the certificate directories ({certs}); an operator can add its directory to [proxy] extra_cert_dirs`,
  ],
  ["a key outside cert_dir", l7(pem, "/etc/shadow"), IA, 'certificate.key_file: "/etc/shadow" is outside'],
  ["a way out by ..", l7("{certs}/../../../etc/passwd", "{certs}/good.test.key"), IA, "is outside"],
  [
    "a relative path",
    l7("good.test.pem", "good.test.key"),
    IA,
    'certificate.cert_file: "good.test.pem" is not an absolute path',
  ],
  // Inside cert_dir but no certificate file: refused at once, the event loop never blocked.
  [
    "a FIFO as certificate",
    l7("{certs}/fifo.pem", "{certs}/good.test.key"),
    FP,
    "certificate file {certs}/fifo.pem cannot be read: not a regular file",
  ],
  [
    "a directory as key",
    l7(pem, "{certs}/dir.key"),
    FP,
    "certificate file {certs}/dir.key cannot be read: not a regular file",
  ],
  [
    "a 2 MiB certificate file",
    l7("{certs}/huge.pem", "{certs}/good.test.key"),
    FP,
    "cannot be read: 2097152 bytes, over the 1048576 a PEM file may have",
  ],
];
