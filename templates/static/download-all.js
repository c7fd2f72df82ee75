// Download all: asks for the folder's ZIP (the counted action), shows how far its building
// has come, then downloads it from S3. The bytes never pass through the site.
import { formatBytes } from "./bytes.js";

const section = document.getElementById("download-all");
const button = section?.querySelector("button");
const bar = section?.querySelector("progress");
const status = section?.querySelector(".zip-status");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const POLL_MS = 1000;

async function ask(url, method = "GET") {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const answer = await fetch(url, { method, headers, credentials: "same-origin" });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.error?.message ?? `The server answered ${answer.status}.`);
  return body.zip;
}

function show(zip) {
  const share = zip.bytes_total ? zip.bytes_done / zip.bytes_total : 0;
  bar.value = Math.round(share * 100);
  const files = zip.files === 1 ? "1 file" : `${zip.files} files`;
  status.textContent = zip.state === "ready"
    ? `${zip.name} is ready (${files}); your download starts.`
    : `Preparing ${zip.name}: ${formatBytes(zip.bytes_done)} of ${formatBytes(zip.bytes_total)} (${files})…`;
}

async function downloadAll() {
  button.disabled = true;
  section.querySelector(".zip-progress").hidden = false;
  status.textContent = "Preparing the ZIP…";
  try {
    let zip = await ask(section.dataset.start, "POST");
    show(zip);
    while (zip.state === "building") {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      zip = await ask(zip.status_url);
      show(zip);
    }
    if (zip.state !== "ready") throw new Error("The ZIP could not be made. Please try again.");
    window.location.assign(zip.download_url);
  } catch (error) {
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

if (section) {
  section.hidden = false;
  button.addEventListener("click", downloadAll);
}
