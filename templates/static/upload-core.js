// Sending a file's bytes straight to S3 as the app planned them, for every page that uploads.
//
// A small file goes in one presigned POST; a large one in presigned parts, several at a time.
// Every transfer is retried with growing pauses. Presigned URLs live a few minutes, so fresh
// ones are asked for before they expire and whenever storage refuses one (403). A plan lists
// only the parts S3 does not hold yet, so sending a renewed plan resumes an upload. Pages
// bring their own `renew` (a fresh plan from their API) and show the progress reported.
import { formatBytes } from "./bytes.js";

const PARALLEL = 4; // parts in flight at once
const ATTEMPTS = 5; // tries of one transfer before the upload stops
const RENEW_AT = 0.8; // ask for fresh URLs once this share of their life has passed

export class UploadError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status; // 0: the connection was lost
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function storageMessage(xml, status) {
  const message = /<Message>([^<]*)<\/Message>/.exec(xml ?? "")?.[1];
  return message ? `Storage refused the upload: ${message}.` : `Storage refused the upload (${status}).`;
}

// One XMLHttpRequest: fetch cannot report upload progress.
function transfer(method, url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new UploadError(storageMessage(request.responseText, request.status), request.status));
    });
    request.addEventListener("error", () => reject(new UploadError("The connection was lost.", 0)));
    request.addEventListener("abort", () => reject(new UploadError("The upload was stopped.", 0)));
    request.send(body);
  });
}

async function retried(attempt) {
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= ATTEMPTS) throw error;
      await pause(Math.min(1000 * 2 ** (tries - 1), 15000));
    }
  }
}

// The plan in use and when to renew it. One renewal at a time; a failed renewal is forgotten
// (the URL at hand may still work), so the next attempt asks again.
class Urls {
  constructor(plan, renew) {
    this.renew = renew;
    this.generation = 0;
    this.refusedIn = -1;
    this.renewing = null;
    this.take(plan);
  }

  take(plan) {
    this.plan = plan;
    this.parts = new Map((plan.parts ?? []).map((part) => [part.part_number, part.url]));
    this.generation += 1;
    const first = plan.parts?.[0]?.url; // a POST is sent at once: only a refusal renews it
    const life = first ? Number(new URL(first).searchParams.get("X-Amz-Expires") || 300) * 1000 : Infinity;
    this.renewAt = Date.now() + life * RENEW_AT;
  }

  // The plan to use now, renewed first when it is old or storage refused one of its URLs.
  async current() {
    if (this.refusedIn === this.generation || Date.now() >= this.renewAt) {
      this.renewing ??= this.renew()
        .then((plan) => this.take(plan))
        .catch(() => {})
        .finally(() => {
          this.renewing = null;
        });
      await this.renewing;
    }
    return this.generation;
  }

  refused(generation) {
    this.refusedIn = generation;
  }
}

// Bytes sent so far, and the speed over the last few seconds.
class Meter {
  constructor(total, report) {
    this.total = total;
    this.report = report;
    this.done = 0; // bytes of transfers finished
    this.moving = new Map(); // bytes of each transfer under way
    this.samples = [];
  }

  update(key, bytes) {
    if (bytes === null) this.moving.delete(key);
    else this.moving.set(key, bytes);
    this.show();
  }

  finish(key, bytes) {
    this.moving.delete(key);
    this.done += bytes;
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
    this.report({ sent, total: this.total, speed });
  }
}

async function sendForm(file, urls, meter) {
  await retried(async () => {
    const generation = await urls.current();
    const body = new FormData();
    for (const [name, value] of Object.entries(urls.plan.fields)) body.append(name, value);
    body.append("file", file); // S3 reads the bytes from the last field
    try {
      await transfer("POST", urls.plan.url, body, (sent) => meter.update("form", Math.min(sent, file.size)));
    } catch (error) {
      meter.update("form", null);
      if (error.status === 403) urls.refused(generation);
      throw error;
    }
  });
  meter.finish("form", file.size);
}

async function sendParts(file, plan, urls, meter) {
  const size = plan.part_size;
  const length = (number) => Math.min(size, file.size - (number - 1) * size);
  for (const number of plan.parts_done ?? []) meter.done += length(number);
  const queue = plan.parts.map((part) => part.part_number);
  let stopped = false;

  async function sendPart(number) {
    const start = (number - 1) * size;
    await retried(async () => {
      const generation = await urls.current();
      const url = urls.parts.get(number);
      if (!url) return; // not in a renewed plan: S3 holds this part already
      try {
        await transfer("PUT", url, file.slice(start, start + length(number)), (sent) => meter.update(number, sent));
      } catch (error) {
        meter.update(number, null);
        if (error.status === 403) urls.refused(generation);
        throw error;
      }
    });
    meter.finish(number, length(number));
  }

  async function worker() {
    while (queue.length && !stopped) {
      await sendPart(queue.shift()).catch((error) => {
        stopped = true; // the others start no new part
        throw error;
      });
    }
  }

  meter.show();
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
}

/** Send `file` as `plan` says; `renew()` gives a fresh plan, `onProgress({sent, total, speed})`. */
export async function sendFile(file, plan, { renew, onProgress }) {
  const urls = new Urls(plan, renew);
  const meter = new Meter(file.size, onProgress);
  if (plan.method === "POST") await sendForm(file, urls, meter);
  else await sendParts(file, plan, urls, meter);
}

function duration(seconds) {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** "42% · 4.8 MB of 11.5 MB · 2.1 MB/s · about 4 s left", as every uploader shows it. */
export function progressText({ sent, total, speed }) {
  const percent = total ? Math.floor((sent * 100) / total) : 100;
  let text = `${percent}% · ${formatBytes(sent)} of ${formatBytes(total)}`;
  if (speed > 0 && sent < total) text += ` · ${formatBytes(speed)}/s · about ${duration((total - sent) / speed)} left`;
  return text;
}
