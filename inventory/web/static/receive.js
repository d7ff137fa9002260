// The receive page works as a plain form; this only helps scanning. A scanner burst is a scanned code whichever
// field has the focus (never the text of the lot number or the supplier), and a burst that arrives while the
// page is still adding the previous box waits on this tab (sessionStorage, tied to this delivery's key) and is
// added right after, one box per round trip, so a fast scanner loses no box.

import { t, visible } from "./common.js";
import { watchForBursts } from "./burst.js";

const QUEUE = "meso.receive.queue";
const form = document.getElementById("receive-form");
const scan = document.getElementById("barcode");
const add = form?.querySelector('button[name="action"][value="scan"]');
const draft = form?.querySelector('input[name="idempotency_key"]')?.value || "";
let sending = false;
// The scan box has the focus from the HTML (autofocus), before this module runs: the first characters of a box
// scanned right after a page load land in it natively, and only the rest reaches the burst watcher.
const early = scan && scan.value.startsWith(scan.defaultValue) ? scan.value.slice(scan.defaultValue.length) : "";
const loadedAt = performance.now();
let earlyUsed = false;

function waiting() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(QUEUE) || "{}");
    return saved.draft === draft && Array.isArray(saved.codes) ? saved.codes : [];
  } catch {
    return [];
  }
}

function keep(codes) {
  if (codes.length) sessionStorage.setItem(QUEUE, JSON.stringify({ draft, codes }));
  else sessionStorage.removeItem(QUEUE);
}

function send(code) {
  sending = true;
  scan.value = code;
  form.requestSubmit(add);
}

function showWaiting(codes) {
  const note = document.getElementById("scan-queue");
  if (!note) return;
  note.hidden = codes.length === 0;
  note.querySelector("span").textContent = t("Scanned codes waiting: {count}. Next: {first}", {
    count: codes.length,
    first: visible(codes[0] || ""),
  });
}

if (form && scan && add) {
  form.addEventListener("submit", () => {
    sending = true;
  });
  watchForBursts({
    onBurst(text) {
      const code = !earlyUsed && early && performance.now() - loadedAt < 2000 ? early + text : text;
      earlyUsed = true;
      if (sending) keep([...waiting(), code]);
      else send(code);
    },
    fields: () => [scan],
  });
  const codes = waiting();
  if (codes.length && !document.getElementById("barcode-error")) {
    keep(codes.slice(1));
    send(codes[0]);
  } else if (codes.length) {
    // The last code was refused: it stays in the scan box with why; the others wait for the person.
    showWaiting(codes);
    document.getElementById("scan-queue-next")?.addEventListener("click", () => {
      const [next, ...rest] = waiting();
      keep(rest);
      if (next) send(next);
    });
  }
}
