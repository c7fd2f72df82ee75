// The Create external link dialog: link options with quick date choices, checked here before
// sending; the new link is shown at once with its QR code and a copy button.
import { api } from "./console-api.js";

const dialog = document.getElementById("link-dialog");
const DAY = 24 * 60 * 60 * 1000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function isoDate(day) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

function daysFromToday(days) {
  const day = new Date();
  day.setHours(12, 0, 0, 0);
  day.setDate(day.getDate() + days);
  return day;
}

// A chosen date means the end of that day where the member is.
function endOfDay(value) {
  const [year, month, day] = value.split("-").map(Number);
  return new Date(year, month - 1, day, 23, 59, 59);
}

function list(text) {
  return text
    .split(/[,;\s]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}

if (dialog) {
  const form = dialog.querySelector("[data-link-form]");
  const created = dialog.querySelector("[data-link-created]");
  const fields = form.elements;
  const maxDays = Number(dialog.dataset.maxDays);
  const sensitive = dialog.dataset.kind === "folder" ? "folders" : "files";
  const warning = form.querySelector("[data-open-warning]");
  const errorBox = form.querySelector("[data-form-error]");
  const submit = form.querySelector("button[type=submit]");

  fields.valid_until.min = isoDate(daysFromToday(0));
  fields.valid_until.max = isoDate(daysFromToday(maxDays - 1));

  function openToAnyoneText(hasDate) {
    return hasDate
      ? `Anyone who has this link can open it. For sensitive ${sensitive}, require login.`
      : `Anyone who has this link can open it, with no end date. For sensitive ${sensitive}, require login or set a date.`;
  }

  function named() {
    return list(fields.recipients.value).length + list(fields.groups.value).length > 0;
  }

  // Naming people or groups means they must sign in: the checkbox follows.
  function update() {
    const mustLogin = named();
    if (mustLogin) fields.require_login.checked = true;
    fields.require_login.disabled = mustLogin;
    warning.hidden = fields.require_login.checked;
    warning.textContent = openToAnyoneText(Boolean(fields.valid_until.value));
    for (const chip of form.querySelectorAll("[data-days]")) {
      const days = chip.dataset.days;
      const chosen = days === "" ? !fields.valid_until.value : fields.valid_until.value === isoDate(daysFromToday(Number(days)));
      chip.setAttribute("aria-pressed", String(chosen));
    }
  }

  function showErrors(problems) {
    errorBox.replaceChildren(
      ...problems.map(([, text]) => {
        const line = document.createElement("p");
        line.textContent = text;
        return line;
      }),
    );
    errorBox.hidden = problems.length === 0;
    for (const name of ["valid_until", "recipients", "groups"]) {
      fields[name].setAttribute("aria-invalid", String(problems.some(([field]) => field === name)));
    }
    if (problems.length) fields[problems[0][0]]?.focus?.();
  }

  function validate() {
    const problems = [];
    const value = fields.valid_until.value;
    if (value) {
      const end = endOfDay(value);
      if (Number.isNaN(end.getTime())) problems.push(["valid_until", "Valid until is not a date."]);
      else if (end <= new Date()) problems.push(["valid_until", "Valid until must be today or later."]);
      else if (end - new Date() > maxDays * DAY) {
        problems.push(["valid_until", `A link can be valid for at most ${maxDays} days.`]);
      }
    } else if (fields.valid_until.validity.badInput) {
      problems.push(["valid_until", "Valid until is not a complete date."]);
    }
    for (const address of list(fields.recipients.value)) {
      if (!EMAIL.test(address)) problems.push(["recipients", `“${address}” is not an email address.`]);
    }
    return problems;
  }

  function reset() {
    form.reset();
    fields.valid_until.value = isoDate(daysFromToday(7));
    showErrors([]);
    form.hidden = false;
    created.hidden = true;
    submit.disabled = false;
    update();
  }

  function showCreated(link) {
    form.hidden = true;
    created.hidden = false;
    window.handoverQr.draw(created.querySelector("[data-created-qr]"), link.url);
    created.querySelector("[data-created-url]").value = link.url;
    created.querySelector("[data-created-copy]").dataset.copy = link.url;
    const until = link.valid_until
      ? `Valid until ${new Date(link.valid_until).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`
      : "Valid until you revoke it";
    const audience = [...link.recipients, ...link.groups.map((group) => `group ${group}`)];
    const who = link.require_login ? (audience.length ? `only for ${audience.join(", ")}` : "sign-in required") : "";
    created.querySelector("[data-created-summary]").textContent = [until, link.allow_upload ? "upload allowed" : "", who]
      .filter(Boolean)
      .join(" · ");
    const open = created.querySelector("[data-created-warning]");
    open.hidden = link.require_login;
    open.textContent = openToAnyoneText(Boolean(link.valid_until));
    created.querySelector("[data-done]").focus();
  }

  for (const opener of document.querySelectorAll("[data-open-link-dialog]")) {
    opener.addEventListener("click", () => {
      reset();
      dialog.showModal();
    });
    opener.disabled = false;
  }

  for (const chip of form.querySelectorAll("[data-days]")) {
    chip.addEventListener("click", () => {
      const days = chip.dataset.days;
      fields.valid_until.value = days === "" ? "" : isoDate(daysFromToday(Number(days)));
      update();
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  created.querySelector("[data-done]").addEventListener("click", () => window.location.reload());
  // Closing with Escape after a link was made still shows it in the table.
  dialog.addEventListener("close", () => {
    if (!created.hidden) window.location.reload();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problems = validate();
    showErrors(problems);
    if (problems.length) return;
    const value = fields.valid_until.value;
    submit.disabled = true;
    try {
      const { link } = await api("POST", `/api/files/${dialog.dataset.fileId}/links`, {
        valid_until: value ? endOfDay(value).toISOString() : null,
        allow_upload: fields.allow_upload.checked,
        require_login: fields.require_login.checked,
        notify: fields.notify?.checked ?? true,
        notify_uploads: fields.notify_uploads?.checked ?? true,
        download_digest: fields.download_digest?.checked ?? false,
        recipients: list(fields.recipients.value),
        groups: list(fields.groups.value),
      });
      showCreated(link);
    } catch (error) {
      showErrors([["", `The link was not created: ${error.message}`]]);
      submit.disabled = false;
    }
  });
}
