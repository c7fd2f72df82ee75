// The app's JSON API as page scripts call it: the session cookie plus its CSRF token (when
// signed in), and readable errors. Also where console scripts show a message.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
// The site's base URL (on API Gateway's own domain it ends with the stage).
export const site = document.querySelector("[data-site]")?.dataset.site ?? "";

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    // Paths are the site's; a page may also hand over a whole URL (the uploader's data-uploads).
    response = await fetch(/^https?:/.test(path) ? path : `${site}${path}`, init);
  } catch {
    throw new ApiError("The server could not be reached. Check your connection and try again.", 0, "network");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  if (!response.ok) {
    const error = data?.error;
    if (response.status === 401) {
      throw new ApiError("Your session has ended. Reload the page to sign in again.", 401, "unauthorized");
    }
    throw new ApiError(error?.message ?? `The server answered ${response.status}.`, response.status, error?.code);
  }
  return data;
}

const FLASH = "handover-message";

// Reload the page to show what an action changed, and say on the fresh page that it was done.
export function reloadSaying(text, to = null) {
  sessionStorage.setItem(FLASH, text);
  if (to) window.location.assign(to);
  else window.location.reload();
}

export function showMessage(text, kind = "error") {
  const box = document.getElementById("console-message");
  if (!box) return;
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

// The message an action left before it reloaded the page. It takes the focus: the control or
// dialog that had it is gone with the reload, and from here Tab reaches the page's content.
{
  const kept = sessionStorage.getItem(FLASH);
  if (kept) {
    sessionStorage.removeItem(FLASH);
    showMessage(kept, "info");
    const box = document.getElementById("console-message");
    if (box) {
      box.tabIndex = -1;
      box.focus({ preventScroll: true });
    }
  }
}
