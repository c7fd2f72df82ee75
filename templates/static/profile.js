// The profile form: saves name and phone through the app (with the session's CSRF token) and says how it went.
import { api } from "./console-api.js";

const form = document.querySelector("form[data-profile]");
const message = document.getElementById("profile-message");

function say(text, ok) {
  message.textContent = text;
  message.dataset.kind = ok ? "ok" : "error";
  message.hidden = false;
}

if (form) {
  const save = form.querySelector("button[type=submit]");
  save.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) {
      say("Enter your name.", false);
      form.elements.name.focus();
      return;
    }
    save.disabled = true;
    try {
      const saved = await api("POST", form.dataset.path, { name, phone: form.elements.phone.value.trim() || null });
      form.elements.phone.value = saved.phone;
      say("Saved.", true);
    } catch (error) {
      say(`Not saved: ${error.message}`, false);
    } finally {
      save.disabled = false;
    }
  });
}
