// A link's QR code: drawn here from the link's URL (so the tab is one request, however many links
// it lists); click it to see it large (to scan from this screen), download it as PNG or SVG.
// The server draws the downloads, for print. PNG downloads ask for image/png explicitly: API
// Gateway returns binary bodies only to requests that accept them, and a plain <a download> sends
// no Accept header at all.
(() => {
  const dialog = document.getElementById("qr-dialog");
  const SVG = "http://www.w3.org/2000/svg";
  const QUIET_ZONE = 4; // modules of white around the code, as the standard asks

  const { qrcode } = window; // from qrcode-generator.js
  qrcode.stringToBytes = qrcode.stringToBytesFuncs["UTF-8"];

  // Medium error correction, as the printed codes: it survives a crease or a smudge.
  function draw(svg, url) {
    const code = qrcode(0, "M");
    code.addData(url, "Byte");
    code.make();
    const count = code.getModuleCount();
    const size = count + 2 * QUIET_ZONE;
    let d = "";
    for (let row = 0; row < count; row++) {
      for (let column = 0; column < count; column++) {
        if (code.isDark(row, column)) d += `M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
      }
    }
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.replaceChildren(path);
    svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
    svg.dataset.qrModules = String(count);
  }
  window.handoverQr = { draw };

  for (const svg of document.querySelectorAll("svg[data-qr-draw]")) draw(svg, svg.dataset.qrDraw);
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
    draw(dialog.querySelector("[data-qr-image]"), opener.dataset.qrUrl);
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
