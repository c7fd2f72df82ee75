// Uploads from the console, straight to S3 as the API plans them: one presigned POST for a
// small file; for a large one, its parts in parallel with presigned PUTs, each retried, with
// fresh URLs when they expire. Shows a progress bar with bytes and speed per file.
import { api, formatBytes, showMessage } from "./console-api.js";

const PARALLEL_PARTS = 4;
const ATTEMPTS = 4;

class UploadError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// One XMLHttpRequest (fetch cannot report upload progress); rejects with UploadError.
function send(method, url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve(request);
      else reject(new UploadError(storageMessage(request.responseText, request.status), request.status));
    });
    request.addEventListener("error", () => reject(new UploadError("the connection to storage failed", 0)));
    request.addEventListener("abort", () => reject(new UploadError("the upload was stopped", 0)));
    request.send(body);
  });
}

function storageMessage(xml, status) {
  const message = /<Message>([^<]*)<\/Message>/.exec(xml ?? "")?.[1];
  return message ? `storage refused it (${message})` : `storage answered ${status}`;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A line in the list of uploads: name, progress bar, and bytes / speed / outcome.
function progressRow(list, name, size) {
  const row = document.createElement("li");
  row.className = "upload";
  const title = document.createElement("span");
  title.className = "upload-name filename";
  title.textContent = name;
  const bar = document.createElement("progress");
  bar.max = size;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${name}`);
  const status = document.createElement("span");
  status.className = "upload-status hint";
  status.textContent = "Waiting…";
  row.append(title, bar, status);
  list.append(row);
  const started = performance.now();
  return {
    progress(sent) {
      bar.value = sent;
      const seconds = (performance.now() - started) / 1000;
      const speed = seconds > 0.3 ? ` · ${formatBytes(sent / seconds)}/s` : "";
      status.textContent = `${formatBytes(sent)} of ${formatBytes(size)}${speed}`;
    },
    done(text) {
      bar.value = size;
      row.classList.add("done");
      status.textContent = text;
    },
    failed(text) {
      row.classList.add("failed");
      status.textContent = text;
      status.setAttribute("role", "alert");
    },
  };
}

async function sendWithPost(plan, file, row) {
  const form = new FormData();
  for (const [name, value] of Object.entries(plan.fields)) form.append(name, value);
  form.append("file", file);
  await send("POST", plan.url, form, (sent) => row.progress(Math.min(sent, file.size)));
}

async function sendParts(fileId, plan, file, row) {
  const size = plan.part_size;
  const partBytes = (number) => Math.min(size, file.size - (number - 1) * size);
  const doneBytes = (plan.parts_done ?? []).reduce((sum, number) => sum + partBytes(number), 0);
  const sending = new Map();
  let finished = doneBytes;
  const report = () => row.progress(finished + [...sending.values()].reduce((a, b) => a + b, 0));
  const urls = new Map(plan.parts.map((part) => [part.part_number, part.url]));
  let renewing = null;

  // Presigned URLs live a few minutes: a part refused as expired gets a fresh plan's URL.
  // One renewal at a time; a failed one is forgotten, so the next attempt asks again.
  async function freshUrls() {
    renewing ??= api("POST", `/api/files/${fileId}/upload`)
      .then(({ upload }) => {
        for (const part of upload.parts) urls.set(part.part_number, part.url);
      })
      .finally(() => {
        renewing = null;
      });
    return renewing;
  }

  async function sendPart(number) {
    const blob = file.slice((number - 1) * size, (number - 1) * size + partBytes(number));
    for (let attempt = 1; ; attempt += 1) {
      try {
        await send("PUT", urls.get(number), blob, (sent) => {
          sending.set(number, sent);
          report();
        });
        sending.delete(number);
        finished += blob.size;
        report();
        return;
      } catch (error) {
        sending.delete(number);
        report();
        if (attempt >= ATTEMPTS) throw error;
        await pause(500 * 2 ** attempt);
        // A renewal that fails counts as this attempt: the next one tries again.
        if (error.status === 403) await freshUrls().catch(() => {});
      }
    }
  }

  const queue = plan.parts.map((part) => part.part_number);
  const worker = async () => {
    while (queue.length) await sendPart(queue.shift());
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
}

async function sendBytes(fileId, plan, file, row) {
  if (plan.method === "POST") await sendWithPost(plan, file, row);
  else await sendParts(fileId, plan, file, row);
  await api("POST", `/api/files/${fileId}/complete`);
}

async function uploadNew(file, folderId, row) {
  row.progress(0);
  try {
    const created = await api("POST", "/api/files", {
      name: file.name,
      size: file.size,
      content_type: file.type || "application/octet-stream",
      folder_id: folderId || null,
    });
    await sendBytes(created.file.file_id, created.upload, file, row);
    row.done(`Uploaded · ${formatBytes(file.size)}`);
    return true;
  } catch (error) {
    row.failed(`Not uploaded: ${error.message}`);
    return false;
  }
}

async function uploadAll(files, folderId) {
  const panel = document.querySelector("[data-uploads]");
  const list = panel.querySelector("[data-upload-list]");
  panel.hidden = false;
  const rows = files.map((file) => progressRow(list, file.name, file.size));
  let failures = 0;
  for (const [index, file] of files.entries()) {
    if (!(await uploadNew(file, folderId, rows[index]))) failures += 1;
  }
  if (failures === 0) {
    setTimeout(() => window.location.reload(), 400);
  } else {
    showMessage(
      `${failures} of ${files.length} file${files.length === 1 ? "" : "s"} could not be uploaded; see the list below. Reload to see the others.`,
    );
  }
}

// Resume: the member picks the same file again; only the parts S3 does not hold yet are sent.
async function resume(input) {
  const file = input.files[0];
  if (!file) return;
  const list = input.closest(".notice").querySelector("[data-upload-list]");
  const row = progressRow(list, file.name, file.size);
  if (file.size !== Number(input.dataset.size)) {
    row.failed(`This is not the same file: ${input.dataset.name} has ${formatBytes(Number(input.dataset.size))}.`);
    return;
  }
  try {
    const { upload } = await api("POST", `/api/files/${input.dataset.fileId}/upload`);
    await sendBytes(input.dataset.fileId, upload, file, row);
    row.done("Uploaded");
    setTimeout(() => window.location.reload(), 400);
  } catch (error) {
    row.failed(`Not uploaded: ${error.message}`);
  }
}

const picker = document.querySelector("[data-upload-input]");
if (picker) picker.disabled = false;
picker?.addEventListener("change", () => {
  const files = [...picker.files];
  picker.value = "";
  if (files.length) uploadAll(files, picker.dataset.folderId);
});

const dropzone = document.querySelector("[data-dropzone]");
if (dropzone && picker) {
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  dropzone.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dropzone.classList.add("dragging");
  });
  dropzone.addEventListener("dragleave", (event) => {
    if (!dropzone.contains(event.relatedTarget)) dropzone.classList.remove("dragging");
  });
  dropzone.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dropzone.classList.remove("dragging");
    const files = [...event.dataTransfer.files];
    if (files.length) uploadAll(files, picker.dataset.folderId);
  });
}

for (const input of document.querySelectorAll("[data-resume-input]")) {
  input.disabled = false;
  input.addEventListener("change", () => resume(input));
}
