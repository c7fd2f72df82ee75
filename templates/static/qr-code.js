// A link's QR code: click it to see it large (to scan from this screen), download it as PNG or SVG.
// PNG downloads ask for image/png explicitly: API Gateway returns binary bodies only to requests
// that accept them, and a plain <a download> sends no Accept header at all.
(() => {
  const dialog = document.getElementById("qr-dialog");

  for (const button of document.querySelectorAll("[data-qr]")) button.disabled = false;

  dialog?.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  async function downloadPng(anchor) {
    const response = await fetch(anchor.href, { headers: { Accept: "image/png" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement("a");
    save.href = url;
    save.download = anchor.getAttribute("download") || "qr-code.png";
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  document.addEventListener("click", (event) => {
    const png = event.target.closest("a[data-png-download]");
    if (png) {
      event.preventDefault();
      downloadPng(png).catch(() => window.location.assign(png.href));
      return;
    }
    const opener = event.target.closest("[data-qr]");
    if (!opener || !dialog) return;
    const name = opener.dataset.qrName || "handover-link";
    dialog.querySelector("[data-qr-image]").src = opener.dataset.qrSvg;
    dialog.querySelector("[data-qr-url]").textContent = opener.dataset.qrUrl;
    const pngLink = dialog.querySelector("[data-qr-png]");
    pngLink.href = opener.dataset.qrPng;
    pngLink.download = `${name}.png`;
    const svgLink = dialog.querySelector("[data-qr-svg]");
    svgLink.href = opener.dataset.qrSvg;
    svgLink.download = `${name}.svg`;
    dialog.showModal();
  });
})();
