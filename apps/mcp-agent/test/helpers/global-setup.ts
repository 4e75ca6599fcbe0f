// Runs once before every test file: the local busybox image the podman tests use.
import { ensureTestImage } from "./podman-fixture.js";

export default function setup(): void {
  ensureTestImage();
}
