// The Collaborators tab: invite by email, make a join link, answer requests, remove people.
import { confirmAction } from "./confirm.js";
import { api, reloadSaying, showMessage } from "./console-api.js";

const shown = document.querySelector("[data-invitation]");

function showInvitation(text, url) {
  shown.querySelector("[data-invitation-text]").textContent = text;
  shown.querySelector("[data-invitation-url]").textContent = url;
  shown.querySelector("[data-copy]").dataset.copy = url;
  shown.hidden = false;
}

document.querySelector("form[data-invite]")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const email = form.elements.email.value.trim();
  try {
    const { invitation } = await api("POST", form.dataset.path, { email, role: form.elements.role.value });
    showInvitation(`Send this invitation link to ${email}. Only they can use it, after signing in or signing up.`, invitation.url);
    form.reset();
  } catch (error) {
    showMessage(`The invitation could not be made: ${error.message}`);
  }
});

document.querySelector("[data-join-link]")?.addEventListener("click", async (event) => {
  try {
    const { join_link: link } = await api("POST", event.currentTarget.dataset.path, {});
    showInvitation("Whoever opens this join link and signs in asks to join; you approve or decline here.", link.url);
  } catch (error) {
    showMessage(`The join link could not be made: ${error.message}`);
  }
});

for (const button of document.querySelectorAll("[data-collaborator-answer]")) {
  button.addEventListener("click", async () => {
    try {
      const approve = Boolean(button.dataset.approve);
      await api("POST", button.dataset.path, { approve });
      reloadSaying(approve ? "Request approved: they can open the folder now." : "Request declined.");
    } catch (error) {
      showMessage(error.message);
    }
  });
}

for (const button of document.querySelectorAll("[data-collaborator-remove]")) {
  button.addEventListener("click", async () => {
    if (!(await confirmAction("Remove this collaborator from the folder?", "Remove"))) return;
    try {
      await api("DELETE", button.dataset.path);
      reloadSaying("Collaborator removed from the folder.");
    } catch (error) {
      showMessage(error.message);
    }
  });
}

for (const button of document.querySelectorAll("[data-invitation-resend]")) {
  button.addEventListener("click", async () => {
    try {
      const { invitation } = await api("POST", button.dataset.path);
      showMessage(`The invitation was mailed to ${invitation.email} again.`, "success");
    } catch (error) {
      showMessage(error.message);
    }
  });
}

for (const button of document.querySelectorAll("[data-invitation-cancel]")) {
  button.addEventListener("click", async () => {
    if (!(await confirmAction("Cancel this invitation? Its link stops working at once.", "Cancel invitation"))) return;
    try {
      await api("DELETE", button.dataset.path);
      window.location.reload();
    } catch (error) {
      showMessage(error.message);
    }
  });
}

const controls = "[data-invite] button, [data-join-link], [data-collaborator-answer], [data-collaborator-remove], [data-invitation-resend], [data-invitation-cancel]";
for (const control of document.querySelectorAll(controls)) {
  control.disabled = false;
}
