// The admin page's actions: each calls the admin API with the session's CSRF token, then reloads.
import { confirmAction } from "./confirm.js";
import { api as call, reloadSaying, showMessage } from "./console-api.js";

{
  const show = (text) => showMessage(text);

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-api]");
    if (!button) return;
    if (button.dataset.confirm && !(await confirmAction(button.dataset.confirm, button.textContent.trim()))) return;
    try {
      await call(button.dataset.api, button.dataset.path);
      reloadSaying(button.dataset.done || "Done.");
    } catch (error) {
      show(error.message);
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-api-form]");
    if (!form) return;
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    // Numbers go as numbers; an empty number field means none (null).
    for (const input of form.querySelectorAll("input[type=number]")) {
      body[input.name] = input.value === "" ? null : Number(input.value);
    }
    try {
      await call(form.dataset.method, form.dataset.path, body);
      reloadSaying(form.dataset.done || "Saved.");
    } catch (error) {
      show(error.message);
    }
  });

  // Select all: ticks or clears every row; it shows "some" when only part of the list is ticked.
  const all = document.querySelector("[data-select-all]");
  const boxes = [...document.querySelectorAll('input[name="selected"]')];
  if (all) {
    all.disabled = false;
    all.addEventListener("change", () => {
      for (const box of boxes) box.checked = all.checked;
    });
    for (const box of boxes) {
      box.addEventListener("change", () => {
        const ticked = boxes.filter((b) => b.checked).length;
        all.checked = ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      });
    }
  }

  document.querySelector("[data-bulk-delete]")?.addEventListener("click", async () => {
    const usernames = [...document.querySelectorAll('input[name="selected"]:checked')].map((box) => box.value);
    if (usernames.length === 0) return show("Select the users to delete first.");
    const noun = usernames.length === 1 ? "user" : "users";
    const question = `Delete ${usernames.length} ${noun}? Their accounts and their access end at once.`;
    if (!(await confirmAction(question, "Delete"))) return;
    try {
      const result = await call("POST", "/api/admin/external-users/delete", { usernames });
      const reasons = result.failed.map((f) => `${f.username}: ${f.message}`).join("; ");
      reloadSaying(`Deleted ${result.deleted.length}.${reasons ? ` Not deleted: ${reasons}` : ""}`);
    } catch (error) {
      show(error.message);
    }
  });
}
