// The Email page: each checkbox turns one kind of mail on or off at once.
import { api, showMessage } from "./console-api.js";

const form = document.querySelector("form[data-email-settings]");
form?.addEventListener("change", async (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  const saved = form.querySelector("[data-saved]");
  saved.hidden = true;
  try {
    await api("PATCH", "/api/me/preferences", { [box.name]: box.checked });
    saved.hidden = false;
  } catch (error) {
    box.checked = !box.checked;
    showMessage(`Not saved: ${error.message}`);
  }
});
