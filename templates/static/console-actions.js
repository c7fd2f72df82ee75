// Console actions: create a folder, rename and delete files and folders, revoke links.
import { confirmAction } from "./confirm.js";
import { api, reloadSaying, showMessage } from "./console-api.js";

for (const form of document.querySelectorAll("form[data-new-folder]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.elements.name;
    const name = input.value.trim();
    if (!name) {
      showMessage("Give the new folder a name.");
      input.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api("POST", "/api/folders", { name, folder_id: form.dataset.folderId || null });
      reloadSaying(`Folder “${name}” created.`);
    } catch (error) {
      showMessage(`The folder could not be created: ${error.message}`);
      button.disabled = false;
    }
  });
}

const renameDialog = document.getElementById("rename-dialog");
const renameForm = renameDialog?.querySelector("form");
let renaming = null;

function openRename(button) {
  renaming = button.dataset.id;
  renameForm.elements.name.value = button.dataset.name;
  renameForm.querySelector("[data-form-error]").hidden = true;
  renameDialog.querySelector("h2").textContent = `Rename “${button.dataset.name}”`;
  renameDialog.showModal();
  renameForm.elements.name.select();
}

renameForm?.addEventListener("submit", async (event) => {
  if (event.submitter?.value === "cancel") return; // method=dialog closes it
  event.preventDefault();
  const error = renameForm.querySelector("[data-form-error]");
  const name = renameForm.elements.name.value.trim();
  if (!name) {
    error.textContent = "The name cannot be empty.";
    error.hidden = false;
    return;
  }
  try {
    await api("PATCH", `/api/files/${renaming}`, { name });
    reloadSaying(`Renamed to “${name}”.`);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
});

async function remove(button) {
  const { name, kind } = button.dataset;
  const question =
    kind === "folder"
      ? `Delete the folder “${name}” and everything in it? Links to them stop working at once.`
      : `Delete “${name}”? Its links stop working at once.`;
  if (!(await confirmAction(question, "Delete"))) return;
  try {
    await api("DELETE", `/api/files/${button.dataset.id}`);
    reloadSaying(`“${name}” deleted; its links no longer work.`, button.dataset.after || null);
  } catch (error) {
    showMessage(`“${name}” could not be deleted: ${error.message}`);
  }
}

async function revoke(button) {
  const question = "Revoke this link? It stops working at once, for everyone who has it.";
  if (!(await confirmAction(question, "Revoke link"))) return;
  try {
    await api("DELETE", `/api/links/${button.dataset.revoke}`);
    reloadSaying("Link revoked: it no longer works for anyone.");
  } catch (error) {
    showMessage(`The link could not be revoked: ${error.message}`);
  }
}

// Controls stay disabled in the page until this script can act on them.
for (const control of document.querySelectorAll("[data-rename], [data-delete], [data-revoke], form[data-new-folder] button")) {
  control.disabled = false;
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-rename], [data-delete], [data-revoke]");
  if (!target) return;
  if (target.hasAttribute("data-rename")) openRename(target);
  else if (target.hasAttribute("data-delete")) remove(target);
  else revoke(target);
});
