// A request for access to a link: approve (adds the person to the link) or ignore, then back to the links.
import { api, showMessage } from "./console-api.js";

const box = document.querySelector("[data-access-request]");
for (const button of box?.querySelectorAll("button[data-approve]") ?? []) {
  button.addEventListener("click", async () => {
    const approve = button.dataset.approve === "true";
    for (const other of box.querySelectorAll("button")) other.disabled = true;
    try {
      await api("POST", `/api/links/${encodeURIComponent(box.dataset.token)}/access-requests`, {
        email: box.dataset.email,
        approve,
      });
      window.location.assign(box.dataset.item);
    } catch (error) {
      showMessage(error.message);
      for (const other of box.querySelectorAll("button")) other.disabled = false;
    }
  });
}
