// The console's uploader: a member's files go through `/api/files`, straight to S3
// (upload-core.js), each with a line showing its progress. A file whose upload stopped is
// resumed from its detail page by choosing the same file again.
import { formatBytes } from "./bytes.js";
import { api, showMessage } from "./console-api.js";
import { progressText, sendFile } from "./upload-core.js";

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
  return {
    progress(progress) {
      bar.value = progress.sent;
      status.textContent = progressText(progress);
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

async function sendBytes(fileId, plan, file, row) {
  const renew = async () => (await api("POST", `/api/files/${fileId}/upload`)).upload;
  await sendFile(file, plan, { renew, onProgress: row.progress });
  await api("POST", `/api/files/${fileId}/complete`);
}

async function uploadNew(file, folderId, row) {
  row.progress({ sent: 0, total: file.size, speed: 0 });
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
