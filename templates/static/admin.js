// The admin page's actions: each calls the admin API with the session's CSRF token, then reloads.
import { confirmAction } from "./confirm.js";
import { api as call } from "./console-api.js";

{
  const message = document.getElementById("admin-message");

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-api]");
    if (!button) return;
    if (button.dataset.confirm && !(await confirmAction(button.dataset.confirm, button.textContent.trim()))) return;
    try {
      await call(button.dataset.api, button.dataset.path);
      window.location.reload();
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
      window.location.reload();
    } catch (error) {
      show(error.message);
    }
  });

  document.querySelector("[data-bulk-delete]")?.addEventListener("click", async () => {
    const usernames = [...document.querySelectorAll('input[name="selected"]:checked')].map((box) => box.value);
    if (usernames.length === 0) return show("Select the users to delete first.");
    const noun = usernames.length === 1 ? "user" : "users";
    const question = `Delete ${usernames.length} ${noun}? Their accounts and their access end at once.`;
    if (!(await confirmAction(question, "Delete"))) return;
    try {
      const result = await call("POST", "/api/admin/external-users/delete", { usernames });
      if (result.failed.length) {
        const reasons = result.failed.map((f) => `${f.username}: ${f.message}`).join("; ");
        sessionStorage.setItem("admin-message", `Deleted ${result.deleted.length}. Not deleted: ${reasons}`);
      }
      window.location.reload();
    } catch (error) {
      show(error.message);
    }
  });

  const kept = sessionStorage.getItem("admin-message");
  if (kept) {
    sessionStorage.removeItem("admin-message");
    show(kept);
  }
}
