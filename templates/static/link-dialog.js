// The external link dialog, for a new link and for editing one (each row's Edit button opens it
// prefilled): link options with quick date choices, checked here before sending. A new link is
// shown at once with its QR code and a copy button; an edited one reloads the table.
import { api, reloadSaying } from "./console-api.js";

const dialog = document.getElementById("link-dialog");
const DAY = 24 * 60 * 60 * 1000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// The limits the API declares (shapes.py); checked here so the member sees them before sending.
const LABEL_MAX = 100;
const MESSAGE_MAX = 2000;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;
const LIMIT_MAX = 1000;

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
  // The admins' policy: how far an end date may be, with and without login, and whether one is needed.
  const policy = {
    max: Number(dialog.dataset.maxDays),
    maxOpen: Number(dialog.dataset.maxOpenDays),
    endRequired: dialog.dataset.endRequired === "true",
    endRequiredOpen: dialog.dataset.endRequiredOpen === "true",
  };
  const never = form.querySelector("[data-never]");
  const sensitive = dialog.dataset.kind === "folder" ? "folders" : "files";
  const warning = form.querySelector("[data-open-warning]");
  const errorBox = form.querySelector("[data-form-error]");
  const submit = form.querySelector("[data-submit]");
  const title = dialog.querySelector("#link-dialog-title");
  const removePassword = form.querySelector("[data-remove-password]");
  const passwordHint = form.querySelector("[data-password-hint]");
  const defaultDays = dialog.dataset.defaultDays ? Number(dialog.dataset.defaultDays) : null;
  // The link being edited (its row's Edit button), or null while creating one.
  let editing = null;

  fields.valid_until.min = isoDate(daysFromToday(0));

  function maxDays() {
    return fields.require_login.checked ? policy.max : policy.maxOpen;
  }

  function endRequired() {
    return fields.require_login.checked ? policy.endRequired : policy.endRequiredOpen;
  }

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
    fields.valid_until.max = isoDate(daysFromToday(maxDays() - 1));
    never.hidden = endRequired();
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
    for (const name of ["valid_until", "recipients", "groups", "password", "download_limit", "label", "message"]) {
      fields[name]?.setAttribute("aria-invalid", String(problems.some(([field]) => field === name)));
    }
    if (problems.length) fields[problems[0][0]]?.focus?.();
  }

  function validate() {
    const problems = [];
    const value = fields.valid_until.value;
    const unchanged = editing && value === editing.shownUntil;
    if (value && !unchanged) {
      const end = endOfDay(value);
      if (Number.isNaN(end.getTime())) problems.push(["valid_until", "Valid until is not a date."]);
      else if (end <= new Date()) problems.push(["valid_until", "Valid until must be today or later."]);
      else if (end - new Date() > maxDays() * DAY) {
        const kind = fields.require_login.checked ? "A link" : "A link that works without login";
        problems.push(["valid_until", `${kind} can be valid for at most ${maxDays()} days.`]);
      }
    } else if (fields.valid_until.validity.badInput) {
      problems.push(["valid_until", "Valid until is not a complete date."]);
    } else if (!value && endRequired() && !unchanged) {
      problems.push(["valid_until", `Choose an end date: your team's links work at most ${maxDays()} days.`]);
    }
    for (const address of list(fields.recipients.value)) {
      if (!EMAIL.test(address)) problems.push(["recipients", `“${address}” is not an email address.`]);
    }
    const password = fields.password.value;
    if (password && (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX)) {
      problems.push(["password", `A password has ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`]);
    }
    const limit = fields.download_limit?.value ?? "";
    if (limit && !(Number.isInteger(Number(limit)) && Number(limit) >= 1 && Number(limit) <= LIMIT_MAX)) {
      problems.push(["download_limit", `A download limit is a whole number from 1 to ${LIMIT_MAX}.`]);
    } else if (fields.download_limit?.validity.badInput) {
      problems.push(["download_limit", "The download limit is not a number."]);
    }
    if (fields.label.value.trim().length > LABEL_MAX) problems.push(["label", `A label has at most ${LABEL_MAX} characters.`]);
    if (fields.message.value.length > MESSAGE_MAX) {
      problems.push(["message", `A message has at most ${MESSAGE_MAX} characters.`]);
    }
    return problems;
  }

  function reset(button) {
    form.reset();
    editing = button ? { token: button.dataset.editLink, ...button.dataset } : null;
    title.textContent = editing ? "Edit external link" : "Create external link";
    submit.textContent = editing ? "Save changes" : "Create link";
    if (editing) {
      fields.valid_until.value = editing.validUntil ? isoDate(new Date(editing.validUntil)) : "";
      fields.allow_upload.checked = editing.allowUpload === "true";
      fields.require_login.checked = editing.requireLogin === "true";
      fields.recipients.value = editing.recipients;
      fields.groups.value = editing.groups;
      fields.label.value = editing.label;
      fields.message.value = editing.message;
      if (fields.download_limit) fields.download_limit.value = editing.downloadLimit;
      editing.shownUntil = fields.valid_until.value;
    } else {
      fields.valid_until.value = defaultDays ? isoDate(daysFromToday(Math.min(defaultDays, maxDays()))) : "";
    }
    const hasPassword = Boolean(editing && editing.hasPassword === "true");
    removePassword.hidden = !hasPassword;
    fields.password.placeholder = hasPassword ? "Unchanged; type a new one to replace it" : "";
    passwordHint.hidden = hasPassword;
    showErrors([]);
    form.hidden = false;
    created.hidden = true;
    submit.disabled = false;
    update();
  }

  // What the form says, as the API's fields. An edit leaves the end date and the password alone
  // unless the member changed them, so a link ending mid-day keeps its exact moment.
  function body() {
    const value = fields.valid_until.value;
    const limit = fields.download_limit?.value ?? "";
    const options = {
      allow_upload: fields.allow_upload.checked,
      require_login: fields.require_login.checked,
      recipients: list(fields.recipients.value),
      groups: list(fields.groups.value),
      label: fields.label.value.trim() || null,
      message: fields.message.value.trim() || null,
    };
    if (fields.download_limit) options.download_limit = limit ? Number(limit) : null;
    if (!editing) {
      // Email choices are made when a link is made (the Edit button does not carry them).
      options.notify = fields.notify?.checked ?? true;
      options.notify_uploads = fields.notify_uploads?.checked ?? true;
      options.download_digest = fields.download_digest?.checked ?? false;
    }
    if (!editing || value !== editing.shownUntil) options.valid_until = value ? endOfDay(value).toISOString() : null;
    if (fields.password.value) options.password = fields.password.value;
    else if (editing && fields.remove_password.checked) options.password = null;
    else if (!editing) options.password = null;
    return options;
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
      reset(null);
      dialog.showModal();
    });
    opener.disabled = false;
  }

  for (const editor of document.querySelectorAll("[data-edit-link]")) {
    editor.addEventListener("click", () => {
      reset(editor);
      dialog.showModal();
    });
    editor.disabled = false;
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
  created.querySelector("[data-done]").addEventListener("click", () => reloadSaying("Link created."));
  // Closing with Escape after a link was made still shows it in the table.
  dialog.addEventListener("close", () => {
    if (!created.hidden) reloadSaying("Link created.");
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problems = validate();
    showErrors(problems);
    if (problems.length) return;
    submit.disabled = true;
    try {
      if (editing) {
        await api("PATCH", `/api/links/${editing.token}`, body());
        reloadSaying("Link changed.");
        return;
      }
      const { link } = await api("POST", `/api/files/${dialog.dataset.fileId}/links`, body());
      showCreated(link);
    } catch (error) {
      showErrors([["", `The link was not ${editing ? "changed" : "created"}: ${error.message}`]]);
      submit.disabled = false;
    }
  });
}
