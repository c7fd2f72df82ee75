// "Request access" on the page of a link that is not for the signed-in person: sent with the
// session's CSRF token; the answer replaces the page's card.
const form = document.querySelector("form[data-request-access]");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(form.action, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    document.querySelector("main").replaceWith(page.querySelector("main"));
  } catch {
    button.disabled = false;
  }
});
