// Copy buttons: <button data-copy="text">. Says "Copied" on the button for a moment.
async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP sites have no clipboard API: copy through a selected, hidden text area.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  if (!done) throw new Error("copy refused");
}

// A module runs once the page is parsed: every button is there.
for (const button of document.querySelectorAll("button[data-copy]")) button.disabled = false;

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button || !button.dataset.copy) return;
  const label = button.querySelector("[data-copy-label]") ?? button;
  const before = label.dataset.before ?? label.textContent;
  label.dataset.before = before;
  try {
    await copy(button.dataset.copy);
    label.textContent = "Copied";
    button.classList.add("copied");
  } catch {
    label.textContent = "Select and copy";
  }
  setTimeout(() => {
    label.textContent = before;
    button.classList.remove("copied");
  }, 2000);
});
