// The landing page's uploader: a recipient sends a new version of the file straight to S3.
//
// A small file goes in one presigned POST; a large one in presigned parts, several at a
// time, each retried when it fails, with fresh URLs asked for before they expire. The
// upload's id is kept in localStorage for this link and this file, so choosing the same
// file again after a closed tab or a lost connection resumes from the parts S3 already
// holds. The server records the new version only after it has checked the bytes in S3.
(() => {
  "use strict";

  const section = document.getElementById("upload");
  if (!section || !window.fetch || !window.FormData) return;

  const PARALLEL = 4; // parts in flight at once
  const ATTEMPTS = 5; // tries of one part before the upload pauses
  const RENEW_AT = 0.8; // ask for fresh URLs once this share of their life has passed

  const form = section.querySelector("form");
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector(".drop");
  const dropText = form.querySelector(".drop-text");
  const button = form.querySelector("button");
  const meter = section.querySelector(".upload-progress");
  const bar = meter.querySelector("progress");
  const statusLine = meter.querySelector(".upload-status");
  const uploadsUrl = section.dataset.uploads;
  let chosen = null;
  let busy = false;

  section.hidden = false;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const say = (text) => {
    statusLine.textContent = text;
  };

  class Failure extends Error {
    constructor(status, message, final = false) {
      super(message);
      this.status = status; // 0: the connection was lost
      this.final = final; // the app said no: trying again will not help
    }
  }

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"]; // decimal, as in the page's facts
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return unit === 0 ? `${Math.round(value)} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function duration(seconds) {
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  // --- remembering an unfinished upload, per link and file --------------------------

  function storageKey(file) {
    return `handover-upload:${section.dataset.link}:${file.size}:${file.lastModified}:${file.name}`;
  }

  function remember(file, uploadId) {
    try {
      localStorage.setItem(storageKey(file), uploadId);
    } catch (error) {
      // No storage (private mode): the upload works, it just cannot resume.
    }
  }

  function recall(file) {
    try {
      return localStorage.getItem(storageKey(file));
    } catch (error) {
      return null;
    }
  }

  function forget(file) {
    try {
      localStorage.removeItem(storageKey(file));
    } catch (error) {
      // nothing to forget
    }
  }

  // --- talking to the app and to S3 ----------------------------------------------------

  async function api(path, body) {
    const headers = { "Content-Type": "application/json" };
    // A signed-in browser session puts its CSRF token in the page; anonymous visitors have none.
    const csrf = document.querySelector('meta[name="csrf-token"]');
    if (csrf) headers["X-CSRF-Token"] = csrf.content;
    let response;
    try {
      response = await fetch(uploadsUrl + path, {
        method: "POST",
        headers,
        credentials: "same-origin",
        body: JSON.stringify(body || {}),
      });
    } catch (error) {
      throw new Failure(0, "The connection was lost.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (data.error && data.error.message) || `The server answered ${response.status}.`;
      throw new Failure(response.status, message, response.status < 500);
    }
    return data.upload;
  }

  function transfer(method, url, body, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(method, url);
      request.upload.onprogress = (event) => onProgress(event.loaded);
      request.onload = () =>
        request.status >= 200 && request.status < 300
          ? resolve()
          : reject(new Failure(request.status, `Storage refused the upload (${request.status}).`));
      request.onerror = () => reject(new Failure(0, "The connection was lost."));
      request.send(body);
    });
  }

  async function retried(attempt) {
    for (let tries = 1; ; tries += 1) {
      try {
        return await attempt(tries);
      } catch (error) {
        if (tries >= ATTEMPTS || error.final) throw error;
        await sleep(Math.min(1000 * 2 ** (tries - 1), 15000));
      }
    }
  }

  // --- progress: bytes, speed and time left ------------------------------------------

  class Progress {
    constructor(total, done) {
      this.total = total;
      this.done = done; // bytes of parts finished
      this.moving = new Map(); // bytes of each transfer under way
      this.samples = [[performance.now(), done]];
      this.show();
    }

    update(key, bytes) {
      this.moving.set(key, bytes);
      this.show();
    }

    finish(key, bytes) {
      this.moving.delete(key);
      this.done += bytes;
      this.show();
    }

    fail(key) {
      this.moving.delete(key);
      this.show();
    }

    show() {
      let sent = this.done;
      for (const bytes of this.moving.values()) sent += bytes;
      sent = Math.min(sent, this.total);
      const now = performance.now();
      this.samples.push([now, sent]);
      while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
      const [since, sentThen] = this.samples[0];
      const speed = now > since ? ((sent - sentThen) * 1000) / (now - since) : 0;
      const percent = this.total ? Math.floor((sent * 100) / this.total) : 100;
      bar.value = percent;
      let text = `${percent}% · ${size(sent)} of ${size(this.total)}`;
      if (speed > 0 && sent < this.total) {
        text += ` · ${size(speed)}/s · about ${duration((this.total - sent) / speed)} left`;
      }
      say(text);
    }
  }

  // --- the two ways of sending ----------------------------------------------------------

  async function sendForm(file, plan) {
    const progress = new Progress(file.size, 0);
    await retried(async () => {
      const body = new FormData();
      for (const [name, value] of Object.entries(plan.fields)) body.append(name, value);
      body.append("file", file); // S3 reads the bytes from the last field
      try {
        await transfer("POST", plan.url, body, (loaded) => progress.update("form", Math.min(loaded, file.size)));
      } catch (error) {
        progress.fail("form");
        throw error;
      }
    });
    progress.finish("form", file.size);
  }

  function urlLife(url) {
    return Number(new URL(url).searchParams.get("X-Amz-Expires") || 300) * 1000;
  }

  async function sendParts(file, plan) {
    const partSize = plan.part_size;
    const length = (number) => Math.min(partSize, file.size - (number - 1) * partSize);
    const held = plan.parts_done.reduce((sum, number) => sum + length(number), 0);
    const progress = new Progress(file.size, held);
    const queue = plan.parts.map((part) => part.part_number);
    let urls = new Map(plan.parts.map((part) => [part.part_number, part.url]));
    let renewAt = plan.parts.length ? Date.now() + urlLife(plan.parts[0].url) * RENEW_AT : Infinity;
    let renewing = null;
    let stopped = false;

    async function urlFor(number) {
      if (Date.now() >= renewAt) {
        renewing =
          renewing ||
          api(`/${plan.upload_id}/plan`)
            .then((fresh) => {
              urls = new Map(fresh.parts.map((part) => [part.part_number, part.url]));
              renewAt = fresh.parts.length ? Date.now() + urlLife(fresh.parts[0].url) * RENEW_AT : Infinity;
            })
            .finally(() => {
              renewing = null;
            });
        await renewing;
      }
      return urls.get(number); // none: S3 holds this part already
    }

    async function worker() {
      while (queue.length && !stopped) {
        const number = queue.shift();
        const start = (number - 1) * partSize;
        await retried(async () => {
          const url = await urlFor(number);
          if (!url) return;
          try {
            await transfer("PUT", url, file.slice(start, start + length(number)), (loaded) =>
              progress.update(number, loaded),
            );
          } catch (error) {
            progress.fail(number);
            if (error.status === 403) renewAt = 0; // an expired URL: ask for a fresh one first
            throw error;
          }
        }).catch((error) => {
          stopped = true;
          throw error;
        });
        progress.finish(number, length(number));
      }
    }

    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  }

  // --- the whole upload -------------------------------------------------------------------

  async function resume(file) {
    const uploadId = recall(file);
    if (!uploadId) return null;
    try {
      return await api(`/${uploadId}/plan`);
    } catch (error) {
      if (error.status === 0) throw error;
      forget(file); // completed, abandoned too long, or unknown: start afresh
      return null;
    }
  }

  async function send(file) {
    busy = true;
    button.disabled = true;
    input.disabled = true;
    meter.hidden = false;
    bar.value = 0;
    say("Starting…");
    try {
      let plan = await resume(file);
      if (!plan) {
        plan = await api("", { name: file.name, size: file.size, content_type: file.type || null });
        if (plan.method === "MULTIPART") remember(file, plan.upload_id);
      }
      if (plan.method === "POST") await sendForm(file, plan);
      else await sendParts(file, plan);
      const done = await api(`/${plan.upload_id}/complete`);
      forget(file);
      bar.value = 100;
      say(
        section.dataset.intoFolder
          ? `100% · Sent: ${done.name} (${size(done.size)}) is now in the folder.`
          : `100% · Sent. This link now gives your version: ${done.name} (${size(done.size)}).`,
      );
    } catch (error) {
      say(
        error.status === 0
          ? "The upload paused: the connection was lost. Choose the same file again to continue where it stopped."
          : `The file could not be sent: ${error.message}`,
      );
    } finally {
      busy = false;
      input.disabled = false;
      button.disabled = !chosen;
    }
  }

  // --- choosing a file ------------------------------------------------------------------

  function choose(file) {
    if (!file || busy) return;
    chosen = file;
    dropText.textContent = `${file.name} (${size(file.size)})`;
    button.disabled = false;
  }

  input.addEventListener("change", () => choose(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    choose(event.dataTransfer.files[0]);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (chosen && !busy) send(chosen);
  });
})();
