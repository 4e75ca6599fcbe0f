/**
 * Container image references, by the grammar of distribution/reference (what podman and docker
 * accept): `[registry[:port]/]path[:tag][@digest]`, path components in lower case.
 */
const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/**
 * podman reads `<transport>:<path>` as an image in another store, not a registry reference:
 * `docker-archive:x` opens the file x on the node (as the agent: root). These are valid
 * reference syntax (name:tag), so they are refused by name.
 */
const TRANSPORTS = [
  "containers-storage",
  "dir",
  "docker-archive",
  "docker-daemon",
  "oci",
  "oci-archive",
  "sif",
  "tarball",
];

export function checkImage(value: string): string | undefined {
  const transport = TRANSPORTS.find((name) => value.startsWith(`${name}:`));
  if (transport) {
    return `"${transport}:" is a podman transport (an image read from the node's files), not a registry image, got ${JSON.stringify(value)}`;
  }
  const match = REFERENCE.exec(value);
  if (match && (match[1] ?? "").length <= 255) return undefined;
  return `expected an image reference such as "registry.example:5000/name:tag" (lower-case name), got ${JSON.stringify(value)}`;
}
