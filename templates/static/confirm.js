// The one way pages ask "are you sure?": a styled modal <dialog>, made on first use, that
// resolves to true only when the person confirms. Cancel has the focus, so Enter on its own
// never deletes; Escape cancels; focus goes back where it was.

let dialog = null;

function build() {
  dialog = document.createElement("dialog");
  dialog.className = "dialog";
  dialog.setAttribute("aria-labelledby", "confirm-title");
  dialog.innerHTML = `<form method="dialog">
      <h2 id="confirm-title">Are you sure?</h2>
      <p data-confirm-message></p>
      <div class="dialog-actions">
        <button class="button secondary" value="cancel" autofocus>Cancel</button>
        <button class="button danger" value="confirm" data-confirm-button>Confirm</button>
      </div>
    </form>`;
  document.body.append(dialog);
}

export function confirmAction(message, confirmLabel = "Confirm") {
  if (!dialog) build();
  const before = document.activeElement;
  dialog.querySelector("[data-confirm-message]").textContent = message;
  dialog.querySelector("[data-confirm-button]").textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        before?.focus?.();
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
  });
}
