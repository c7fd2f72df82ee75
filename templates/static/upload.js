// The landing and portal pages' uploader: a recipient or collaborator sends a file through
// `/s/{token}/uploads` or `/portal/folders/{id}/uploads`, straight to S3 (upload-core.js).
//
// The upload's id is kept in localStorage for this link or folder and this file, so choosing
// the same file again after a closed tab or a lost connection resumes from the parts S3
// already holds. The server records the new version only after it has checked the bytes.
import { formatBytes } from "./bytes.js";
import { api } from "./console-api.js";
import { progressText, sendFile } from "./upload-core.js";

function uploader(section) {
  const form = section.querySelector("form");
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector(".drop");
  const dropText = form.querySelector(".drop-text");
  const button = form.querySelector("button");
  const meter = section.querySelector(".upload-progress");
  const bar = meter.querySelector("progress");
  const statusLine = meter.querySelector(".upload-status");
  let chosen = null;
  let busy = false;
  const emptyText = dropText.textContent;

  section.hidden = false;

  const say = (text) => {
    statusLine.textContent = text;
  };
  const call = async (path, body = {}) => (await api("POST", section.dataset.uploads + path, body)).upload;

  // --- remembering an unfinished upload, per link or folder and file ---------------------

  const storageKey = (file) => `handover-upload:${section.dataset.link}:${file.size}:${file.lastModified}:${file.name}`;

  function remember(file, uploadId) {
    try {
      localStorage.setItem(storageKey(file), uploadId);
    } catch {
      // No storage (private mode): the upload works, it just cannot resume.
    }
  }

  function recall(file) {
    try {
      return localStorage.getItem(storageKey(file));
    } catch {
      return null;
    }
  }

  function forget(file) {
    try {
      localStorage.removeItem(storageKey(file));
    } catch {
      // nothing to forget
    }
  }

  async function resume(file) {
    const uploadId = recall(file);
    if (!uploadId) return null;
    try {
      return await call(`/${uploadId}/plan`);
    } catch (error) {
      if (error.status === 0) throw error;
      forget(file); // completed, abandoned too long, or unknown: start afresh
      return null;
    }
  }

  // --- who sends it, when the link asks ----------------------------------------------------

  function sender() {
    const given = {};
    for (const field of ["sender_name", "sender_email"]) {
      const value = form.elements[field]?.value.trim();
      if (value) given[field] = value;
    }
    return given;
  }

  // --- accepted once the malware scan found it clean ---------------------------------------

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function checked(upload) {
    // Scans usually answer within seconds; after a few minutes the owner sees it waiting instead.
    for (let tries = 0; tries < 60 && upload.state === "pending"; tries += 1) {
      await wait(3000);
      try {
        upload = (await api("GET", `${section.dataset.uploads}/${upload.upload_id}`)).upload;
      } catch {
        // a dropped connection: ask again
      }
    }
    return upload.state;
  }

  function verdict(done, state) {
    if (state === "clean") {
      return section.dataset.intoFolder
        ? `Accepted: no malware found. ${done.name} is now in the folder.`
        : "Accepted: no malware found. This link now gives your version.";
    }
    if (state === "infected") return "Not accepted: malware was found in this file. Nobody will be given it.";
    return "Sent. It is still being checked for malware; the owner gets it once the check passes.";
  }

  // --- the whole upload --------------------------------------------------------------------

  async function send(file) {
    busy = true;
    button.disabled = true;
    input.disabled = true;
    meter.hidden = false;
    bar.value = 0;
    say("Starting…");
    try {
      let plan = await resume(file);
      if (!plan) {
        plan = await call("", { name: file.name, size: file.size, content_type: file.type || null, ...sender() });
        if (plan.method === "MULTIPART") remember(file, plan.upload_id);
      }
      await sendFile(file, plan, {
        renew: () => call(`/${plan.upload_id}/plan`),
        onProgress: (progress) => {
          bar.value = progress.total ? Math.floor((progress.sent * 100) / progress.total) : 100;
          say(progressText(progress));
        },
      });
      const done = await call(`/${plan.upload_id}/complete`);
      forget(file);
      bar.value = 100;
      // Sent: Send waits for another file, so the same one is not sent twice by accident.
      chosen = null;
      input.value = "";
      dropText.textContent = emptyText;
      say(`100% · Sent: ${done.name} (${formatBytes(done.size)}). It is being checked for malware…`);
      const state = await checked(done);
      if (state === "clean") {
        if (section.dataset.intoFolder) await showInFolder();
        else showSent(done);
      }
      say(verdict(done, state));
    } catch (error) {
      say(
        error.status === 0
          ? "The upload paused: the connection was lost. Choose the same file again to continue where it stopped."
          : `The file could not be sent: ${error.message}`,
      );
    } finally {
      busy = false;
      input.disabled = false;
      button.disabled = !chosen;
    }
  }

  // The page's facts about the file follow the version just sent, without a reload.
  function showSent(done) {
    // The file keeps its own name: only its owner renames it; a version is kept "sent as".
    const size = document.querySelector("[data-file-size]");
    const updated = document.querySelector("[data-file-updated]");
    if (size) size.textContent = formatBytes(done.size);
    if (updated && done.updated_at) {
      const moment = new Date(done.updated_at);
      updated.setAttribute("datetime", done.updated_at);
      updated.textContent = moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      updated.title = moment.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
    }
  }

  // A file sent into a folder appears in the folder's list: the page's list, read again.
  async function showInFolder() {
    const list = document.querySelector("[data-folder-items]");
    if (!list) return;
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.querySelector("[data-folder-items]");
      if (fresh) list.replaceChildren(...fresh.childNodes);
    } catch {
      // The list stays as it was; a reload shows the file.
    }
  }

  // --- choosing a file -----------------------------------------------------------------------

  function choose(file) {
    if (!file || busy) return;
    chosen = file;
    dropText.textContent = `${file.name} (${formatBytes(file.size)})`;
    button.disabled = false;
  }

  input.addEventListener("change", () => choose(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    choose(event.dataTransfer.files[0]);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (chosen && !busy) send(chosen);
  });
}

const section = document.getElementById("upload");
if (section) uploader(section);
