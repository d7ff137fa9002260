// The chair: pick today's session, scan each ampoule, see at a glance whether it was recorded. Every scan is
// kept on the device (queue.js) before it is sent and until the service has answered it, with its own
// Idempotency-Key, so a network cut, a restart or an ended sign-in delays a scan but never loses or doubles it.
// A scanner burst is a scan whichever field has the focus (burst.js).

import {
  $,
  ApiError,
  CHAIR,
  EMAIL,
  KEYBOARD,
  NetworkError,
  api,
  ask,
  dateTime,
  el,
  fill,
  goSignIn,
  header,
  message,
  newKey,
  pageError,
  productName,
  setUnauthorizedHandler,
  show,
  signIn,
  signedIn,
  time,
  token,
  tokenFromPage,
  visible,
} from "./common.js";
import { looksLikeCode, watchForBursts } from "./burst.js";
import * as queue from "./queue.js";

const chair = { locations: [], clients: new Map(), session: null, client: null };
const MAX_CARDS = 6;
const MIN_REASON = 5;

// ------------------------------------------------------------------ words for people

// What a refusal means at the chair and what to do about it; the service's own sentence and code go under
// "Technical details".
const REFUSALS = {
  allergy_conflict: ["Allergy", "Do not use it, or give a clinical reason below to use it anyway."],
  lot_expired: ["Expired", "Do not use it. Put it aside for disposal and take another ampoule."],
  lot_recalled: ["Recalled lot", "Do not use it. Put it aside and tell a manager."],
  lot_quarantined: ["Quarantined lot", "Do not use it. Put it aside: a manager is checking this lot."],
  serial_already_used: ["Already used", "This ampoule's serial number was already recorded. Check the ampoule."],
  session_closed: ["Session closed", "This session is closed. Choose or start another session."],
  lot_ambiguous: ["Which lot?", "Several lots of this product are here: scan the code that carries the lot number."],
  lot_required: ["Lot needed", "Scan the code that carries the lot number, or type the lot number."],
  product_unknown: ["Unknown product", "This product is not in the catalogue. Ask a manager to add it."],
  barcode_invalid: ["Code not readable", "Scan it again, or type the code printed under the barcode."],
  barcode_ambiguous: ["Code not clear", "The scanner lost the separators. Scan again, or type the lot number."],
  repeat_scan: ["Same code again", "This same code was just recorded on this session."],
  override_reason_invalid: ["Reason not accepted", "Write the clinical reason in words."],
  container_expired: ["Opened container past its use-by", "Open a new container."],
  container_insufficient: ["Not enough left", "Open a new container."],
  not_found: ["Session not found", "Choose the session again."],
  forbidden: ["Not allowed", "Your role may not do this."],
  validation_error: ["Not accepted", "Check what was scanned or typed."],
};

// Warnings that ask someone to act (amber); the others are notes on a use that needs nothing (green).
const TO_ACT_ON = new Set([
  "lot_not_received",
  "stock_discrepancy",
  "allergy_overridden",
  "expiry_mismatch",
  "not_in_protocol",
]);

function warningText(w, result) {
  const lot = result.lot.lot_number;
  switch (w.code) {
    case "lot_not_received":
      return `Lot ${lot} was never received here. It is recorded; tell a manager so the delivery is checked.`;
    case "stock_discrepancy":
      return `The shelf count here was already at zero. It is recorded; a manager will count the shelf.`;
    case "allergy_overridden":
      return `Allergy overridden${result.override_reason ? `, reason: “${result.override_reason}”` : ""}.`;
    case "expiry_mismatch":
      return "The expiry on the code differs from the recorded one: check the box and tell a manager.";
    case "not_in_protocol":
      return "This product is not part of the session's protocol.";
    case "fefo_violation":
      return "Next time, take the lot that expires first: another lot here expires earlier.";
    case "expires_soon":
      return `Expires on ${result.lot.expiry_date}.`;
    case "lot_inferred":
      return `Lot ${lot} was used: the only one of this product here.`;
    case "container_opened":
      return "A new container was opened.";
    default:
      return w.message || w.code;
  }
}

// ------------------------------------------------------------------ saved chair (this tab)

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(CHAIR) || "{}");
  } catch {
    return {};
  }
}

function saveChair(values) {
  sessionStorage.setItem(CHAIR, JSON.stringify({ ...saved(), ...values }));
}

function currentEmail() {
  return (sessionStorage.getItem(EMAIL) || "").toLowerCase();
}

async function clientById(id) {
  if (!chair.clients.has(id)) {
    const loading = api("GET", `/api/clients/${id}`);
    chair.clients.set(id, loading);
    loading.catch(() => chair.clients.delete(id));
  }
  return chair.clients.get(id);
}

/** A time of day on the location's own clock (its timezone), whatever the device's clock is set to. */
function clockAt(iso, timezone) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: timezone || undefined });
  } catch {
    return time(iso);
  }
}

function zoneOf(locationId) {
  const place = chair.locations.find((l) => l.id === locationId);
  return place ? place.timezone : undefined;
}

/** The location's own date today (its timezone), as YYYY-MM-DD. */
function localDate(timezone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone || undefined, dateStyle: "short" }).format(new Date());
  } catch {
    return new Intl.DateTimeFormat("en-CA", { dateStyle: "short" }).format(new Date());
  }
}

// ------------------------------------------------------------------ start

async function scanPage() {
  header();
  setUnauthorizedHandler(askSignIn);
  if (!signedIn()) {
    // The page came with its sign-in cookie: get a bearer token of that sign-in. Offline (a reload served by
    // the service worker), the station opens anyway and scans wait on the device until the service is back.
    try {
      if (!(await tokenFromPage()) && !token()) {
        goSignIn();
        return;
      }
    } catch {
      // NetworkError: carry on with what the device holds.
    }
  }
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui/" }).catch(() => {});
  watchForBursts({ onBurst: onBurstScan, fields: () => [$("#scan-input")] });
  wireStation();
  import("./camera.js")
    .then((camera) => setupCamera(camera))
    .catch(() => {}); // no camera module: wedge scanners and typing still work

  const state = saved();
  try {
    chair.locations = await api("GET", "/api/locations");
    saveChair({ locations: chair.locations });
  } catch (error) {
    chair.locations = state.locations || [];
    if (!(error instanceof NetworkError || error.status === 401)) pageError(error);
  }
  fillLocations(state.locationId);

  const asked = Number(new URLSearchParams(location.search).get("session"));
  const sessionId = asked > 0 ? asked : state.sessionId;
  if (sessionId) await openSession(sessionId);
  else showSetup();
  if (!signedIn()) askSignIn();
  await renderPending();
  flush();
  window.addEventListener("online", () => flush());
  setInterval(() => flush(), 20_000);
}

function wireStation() {
  $("#location").addEventListener("change", () => {
    saveChair({ locationId: Number($("#location").value) || null });
    loadAgenda();
  });
  $("#client-search").addEventListener("submit", searchClients);
  $("#change-session").addEventListener("click", () => showSetup());
  $("#close-session").addEventListener("click", closeSession);
  $("#scan-form").addEventListener("submit", onTypedScan);
  $("#signin-form").addEventListener("submit", onSignIn);
  $("#signin-dialog").addEventListener("close", () => renderPending());
  setupKeyboardToggle();
  // A person's stray keystroke outside any field goes to the scan input (scanner bursts are handled apart).
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if ($("#chair").hidden || document.querySelector("dialog[open]")) return;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return;
    if (target instanceof HTMLTextAreaElement) return;
    if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) $("#scan-input").focus();
  });
}

function fillLocations(selected) {
  const select = $("#location");
  select.replaceChildren(
    el("option", { value: "" }, "Choose a location…"),
    ...chair.locations.map((l) => el("option", { value: l.id }, l.name)),
  );
  if (chair.locations.some((l) => l.id === selected)) select.value = String(selected);
}

function setupKeyboardToggle() {
  const input = $("#scan-input");
  const toggle = $("#keyboard-toggle");
  const apply = () => {
    const scannerOnly = sessionStorage.getItem(KEYBOARD) === "none";
    if (scannerOnly) input.setAttribute("inputmode", "none");
    else input.removeAttribute("inputmode");
    toggle.textContent = scannerOnly
      ? "Show the on-screen keyboard (to type a code)"
      : "Hide the on-screen keyboard (scanner only)";
  };
  toggle.addEventListener("click", () => {
    sessionStorage.setItem(KEYBOARD, sessionStorage.getItem(KEYBOARD) === "none" ? "text" : "none");
    apply();
    input.focus();
  });
  apply();
}

let closeCamera = () => {};

// Camera scanning (camera.js): each code read goes the same way as a scanned or typed one.
function setupCamera(camera) {
  if (!camera.cameraAvailable()) return;
  const toggle = $("#camera-toggle");
  const panel = $("#camera-panel");
  let running = null;
  const close = () => {
    if (running) running.then((handle) => handle.stop());
    running = null;
    show(panel, false);
    toggle.setAttribute("aria-expanded", "false");
  };
  show(toggle);
  toggle.setAttribute("aria-expanded", "false");
  toggle.addEventListener("click", () => {
    if (running) return close();
    show(panel);
    toggle.setAttribute("aria-expanded", "true");
    running = camera.openCamera($("#camera-video"), (text) => submitScan(text), (problem) => {
      close();
      pageError(problem);
    });
  });
  $("#camera-close").addEventListener("click", () => {
    close();
    $("#scan-input").focus();
  });
  window.addEventListener("pagehide", close);
  closeCamera = close;
}

// ------------------------------------------------------------------ choosing the session

function showSetup(notice) {
  closeCamera();
  saveChair({ sessionId: null, snapshot: null });
  history.replaceState(null, "", "/ui/scan");
  chair.session = null;
  show($("#chair"), false);
  show($("#setup"));
  pageError(notice || null);
  loadAgenda();
}

async function loadAgenda() {
  const list = $("#agenda");
  const locationId = Number($("#location").value);
  list.replaceChildren();
  show($("#no-agenda"), false);
  if (!locationId) {
    $("#agenda-title").textContent = "Today here";
    list.append(el("li", { class: "muted" }, "Choose the location first."));
    return;
  }
  const place = chair.locations.find((l) => l.id === locationId);
  const day = localDate(place && place.timezone);
  $("#agenda-title").textContent = `Today at ${place ? place.name : "this location"}`;
  let sessions;
  try {
    sessions = await api("GET", `/api/sessions?location_id=${locationId}&date=${day}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500 || error.status === 401) {
      pageError(error);
      return;
    }
    sessions = await api("GET", `/api/sessions?status=open&location_id=${locationId}`).catch(() => []);
  }
  const names = await Promise.all(
    sessions.map((s) => (s.client_name ? s.client_name : clientById(s.client_id).then((c) => c.full_name, () => null))),
  );
  if (Number($("#location").value) !== locationId) return;
  show($("#no-agenda"), sessions.length === 0);
  sessions.forEach((session, i) => {
    const name = names[i] || `Client ${session.client_id}`;
    const zone = place && place.timezone;
    const when = session.scheduled_for
      ? clockAt(session.scheduled_for, zone)
      : `opened ${clockAt(session.created_at, zone)}`;
    const status = { planned: "booked", open: "open", closed: "closed" }[session.status] || session.status;
    const detail = [when, session.treatment, session.sequence ? `session ${session.sequence} of the course` : null]
      .filter(Boolean)
      .join(" · ");
    list.append(
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: `pick status-${session.status}`,
            "data-session": session.id,
            disabled: session.status === "closed",
            onclick: () => openSession(session.id),
          },
          el("strong", {}, name),
          el("span", {}, detail),
          el("span", { class: `badge session-${session.status}` }, status),
        ),
      ),
    );
  });
}

async function searchClients(event) {
  event.preventDefault();
  const q = $("#client-q").value.trim();
  const list = $("#client-results");
  list.replaceChildren();
  show($("#no-clients"), false);
  try {
    const clients = await api("GET", `/api/clients?limit=20&q=${encodeURIComponent(q)}`);
    show($("#no-clients"), clients.length === 0);
    for (const client of clients) {
      const allergies = client.allergies.length ? `Allergies: ${client.allergies.join(", ")}` : "No known allergies";
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", class: "pick", onclick: () => startSession(client) },
            el("strong", {}, client.full_name),
            el("span", {}, `${allergies} · start a session`),
          ),
        ),
      );
    }
  } catch (error) {
    pageError(error);
  }
}

async function startSession(client) {
  const locationId = Number($("#location").value);
  if (!locationId) {
    pageError("Choose the location first.");
    $("#location").focus();
    return;
  }
  const buttons = document.querySelectorAll("#client-results button");
  for (const button of buttons) button.disabled = true; // one tap, one session
  try {
    const session = await api("POST", "/api/sessions", { body: { client_id: client.id, location_id: locationId } });
    chair.clients.set(client.id, Promise.resolve(client));
    $("#client-results").replaceChildren();
    $("#client-q").value = "";
    await openSession(session.id);
  } catch (error) {
    pageError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

async function openSession(id) {
  let session;
  let client;
  let offline = false;
  try {
    session = await api("GET", `/api/sessions/${id}`);
  } catch (error) {
    const snapshot = saved().snapshot;
    if ((error instanceof NetworkError || error.status === 401) && snapshot && snapshot.session.id === id) {
      ({ session, client } = snapshot);
      offline = true;
    } else {
      showSetup(error instanceof ApiError && error.status === 404 ? `Session ${id} no longer exists.` : message(error));
      return;
    }
  }
  if (session.status === "closed") {
    showSetup(`Session #${session.id} is closed; choose or start another.`);
    return;
  }
  if (!client) {
    try {
      client = await clientById(session.client_id);
    } catch {
      client = { full_name: session.client_name || `Client ${session.client_id}`, allergies: [] };
    }
  }
  chair.session = session;
  chair.client = client;
  $("#location").value = String(session.location_id);
  const { usages, ...head } = session;
  saveChair({
    locationId: session.location_id,
    sessionId: session.id,
    snapshot: { session: { ...head, usages: [] }, client: { full_name: client.full_name, allergies: client.allergies } },
  });
  history.replaceState(null, "", `/ui/scan?session=${session.id}`);
  const place = chair.locations.find((l) => l.id === session.location_id);
  $("#session-client").textContent = client.full_name;
  $("#session-meta").textContent = [
    `Session #${session.id}`,
    place ? place.name : null,
    session.treatment,
    session.status === "planned" ? "booked" : `opened ${dateTime(session.created_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const allergies = $("#session-allergies");
  allergies.textContent = client.allergies.length ? `Allergies: ${client.allergies.join(", ")}` : "";
  show(allergies, client.allergies.length > 0);
  $("#result").replaceChildren();
  show($("#result"), false);
  if (offline && holdUp === null) holdUp = "offline";
  pageError(null);
  show($("#setup"), false);
  show($("#chair"));
  renderUses(usages || []);
  $("#scan-input").focus();
  await renderPending();
}

async function refreshUses() {
  if (!chair.session) return;
  try {
    const session = await api("GET", `/api/sessions/${chair.session.id}`);
    if (chair.session && session.id === chair.session.id) renderUses(session.usages);
  } catch {
    // The list catches up with the next scan or reload; the scans themselves are safe in the queue.
  }
}

function renderUses(usages) {
  const body = $("#uses");
  body.replaceChildren();
  show($("#no-uses"), usages.length === 0);
  for (const use of [...usages].reverse()) {
    const notes = use.voided
      ? [`Voided: ${use.void_reason || ""}`]
      : [
          use.override_reason ? `Allergy override: ${use.override_reason}` : null,
          ...use.warnings.filter((w) => w.code !== "allergy_overridden").map((w) => w.message || w.code),
        ].filter(Boolean);
    body.append(
      el(
        "tr",
        { class: use.voided ? "voided" : null, "data-usage": use.usage_id },
        el("td", { "data-label": "Time" }, clockAt(use.used_at, chair.session && zoneOf(chair.session.location_id))),
        el("td", { "data-label": "Product" }, use.product_name),
        el("td", { class: "mono", "data-label": "Lot" }, use.lot_number),
        el("td", { "data-label": "Expiry" }, use.expiry_date),
        el("td", { class: "num", "data-label": "Qty" }, use.quantity),
        el("td", { class: "notes", "data-label": "Notes" }, notes.map((note) => el("div", {}, note))),
        el(
          "td",
          { class: "row-actions" },
          use.voided ? null : el("button", { type: "button", class: "small", onclick: () => voidUse(use) }, "Void"),
        ),
      ),
    );
  }
}

async function voidUse(use) {
  const reason = await ask({
    title: "Void this use?",
    text: `${use.product_name}, lot ${use.lot_number}. It stays on the record, marked voided, and the stock comes back.`,
    reason: true,
    ok: "Void",
    danger: true,
  });
  if (reason !== null) {
    try {
      await api("POST", `/api/usages/${use.usage_id}/void`, { body: { reason }, key: newKey() });
      pageError(null);
    } catch (error) {
      pageError(error);
    }
    await refreshUses();
  }
  $("#scan-input").focus();
}

async function closeSession() {
  const session = chair.session;
  if (!session) return;
  const answer = await ask({
    title: "Close this session?",
    text: "No more ampoules can be recorded on it.",
    ok: "Close session",
    danger: true,
  });
  if (answer === null) {
    $("#scan-input").focus();
    return;
  }
  try {
    await api("POST", `/api/sessions/${session.id}/close`);
    showSetup();
  } catch (error) {
    pageError(error);
  }
}

// ------------------------------------------------------------------ scanning

// A typed code: Enter in the scan box. The box is emptied at once, so a second Enter never sends it again.
function onTypedScan(event) {
  event.preventDefault();
  const input = $("#scan-input");
  const raw = input.value;
  input.value = "";
  input.focus();
  if (raw.trim()) submitScan(raw);
}

// A scanner burst, wherever the focus was: burst.js has already put the fields back as they were.
function onBurstScan(raw) {
  const open = document.querySelector("dialog#ask[open]");
  if (open) $("#ask-cancel").click(); // the person moved on to the next ampoule
  if (!document.querySelector("dialog[open]")) $("#scan-input").focus();
  submitScan(raw);
}

/** Keep a scan on the device, show it, and send it (after any older scans still waiting). */
async function submitScan(raw, { override = null, repeat = false, sessionId = null, replaces = null, allergy = null } = {}) {
  const target = sessionId || (chair.session && chair.session.id);
  if (!target) {
    pageError("Not recorded: a code was scanned but no session is open. Choose the client's session first, then scan the ampoule again.");
    return;
  }
  const scan = {
    key: newKey(),
    sessionId: target,
    raw,
    override,
    repeat,
    allergy,
    email: currentEmail(),
    clientName: chair.client && chair.session && chair.session.id === target ? chair.client.full_name : "",
    createdAt: Date.now(),
  };
  await queue.keep(scan);
  const card = newCard(scan.key, replaces);
  renderPendingCard(card, scan);
  flush();
}

// Why kept scans are not going out right now: null, "offline" (no answer from the service) or "signin".
let holdUp = null;
let flushing = null;
let retryTimer = null;
let failures = 0;
const lateKeys = new Set();

function retryable(error) {
  if (error instanceof NetworkError) return true;
  if (!(error instanceof ApiError)) return false;
  return error.status >= 500 || error.status === 429 || error.status === 408 || error.code === "idempotency_key_in_flight";
}

/** Send every kept scan of the signed-in user, oldest first; stop at the first that cannot be sent yet. */
let flushAgain = false;

function flush() {
  if (flushing) {
    flushAgain = true; // a scan kept while sending: one more round picks it up
    return flushing;
  }
  flushing = sendPending().finally(() => {
    flushing = null;
    if (flushAgain) {
      flushAgain = false;
      flush();
    }
  });
  return flushing;
}

async function sendPending() {
  clearTimeout(retryTimer);
  let blocked = false;
  for (const scan of await queue.pending()) {
    if (!signedIn() || scan.email !== currentEmail()) continue;
    const card = cardFor(scan.key) || newCard(scan.key);
    const body = { barcode: scan.raw, quantity: 1 };
    if (scan.override) body.override_reason = scan.override;
    if (scan.repeat) body.repeat = true;
    try {
      const result = await api("POST", `/api/sessions/${scan.sessionId}/scans`, { body, key: scan.key });
      await queue.forget(scan.key);
      failures = 0;
      holdUp = null;
      renderRecorded(promote(card, scan), scan, result);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        holdUp = "signin";
        renderPendingCard(card, scan);
        lateKeys.add(scan.key);
        blocked = true;
        break;
      }
      if (retryable(error)) {
        holdUp = "offline";
        renderPendingCard(card, scan);
        lateKeys.add(scan.key);
        failures += 1;
        retryTimer = setTimeout(flush, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
        blocked = true;
        break;
      }
      await queue.forget(scan.key);
      failures = 0;
      holdUp = null;
      renderRefused(promote(card, scan), scan, error);
    }
  }
  await renderPending();
  if (!blocked) await refreshUses();
}

// ------------------------------------------------------------------ result cards

function cardFor(key) {
  return document.querySelector(`#result .scan-result[data-key="${CSS.escape(key)}"]`);
}

function newCard(key, replaces = null) {
  const results = $("#result");
  const card = el("div", { class: "scan-result", "data-key": key });
  if (replaces && replaces.isConnected) replaces.replaceWith(card);
  else results.prepend(card);
  makeLatest(card);
  let extra = results.children.length - MAX_CARDS;
  for (const older of [...results.children].reverse()) {
    if (extra <= 0) break;
    if (older.dataset.outcome !== "pending" && older !== card) {
      older.remove();
      extra -= 1;
    }
  }
  show(results);
  return card;
}

// Where the result sits under the input (phones, an on-screen keyboard open), bring both into view together.
function keepResultInView() {
  const station = document.querySelector(".station");
  if (!station || $("#chair").hidden) return;
  const columns = getComputedStyle(station).gridTemplateColumns.split(" ").filter(Boolean);
  if (columns.length <= 1) $("#scan-form").scrollIntoView({ block: "start" });
}

function makeLatest(card) {
  for (const older of $("#result").children) {
    older.classList.remove("latest");
    older.removeAttribute("role");
  }
  card.classList.add("latest");
  card.setAttribute("role", card.dataset.outcome === "refused" ? "alert" : "status");
  requestAnimationFrame(keepResultInView);
}

// A scan answered after waiting is news: its card moves to the top, loudly.
function promote(card, scan) {
  if (!lateKeys.has(scan.key)) return card;
  lateKeys.delete(scan.key);
  card.classList.add("late");
  $("#result").prepend(card);
  makeLatest(card);
  return card;
}

function outcome(card, value) {
  card.dataset.outcome = value;
  card.className = `scan-result ${value}${card.classList.contains("latest") ? " latest" : ""}${card.classList.contains("late") ? " late" : ""}`;
  if (card.classList.contains("latest")) card.setAttribute("role", value === "refused" ? "alert" : "status");
}

function technical({ raw, code = null, status = null, detail = null, warnings = [] }) {
  return el(
    "details",
    { class: "technical" },
    el("summary", {}, "Technical details"),
    el(
      "dl",
      {},
      code ? [el("dt", {}, "Code"), el("dd", { class: "code" }, status ? `${code} · HTTP ${status}` : code)] : null,
      warnings.length ? [el("dt", {}, "Warnings"), el("dd", { class: "code" }, warnings.join(", "))] : null,
      detail ? [el("dt", {}, "Service"), el("dd", {}, detail)] : null,
      [el("dt", {}, "Scanned"), el("dd", { class: "raw" }, el("code", {}, visible(raw)))],
    ),
  );
}

function renderPendingCard(card, scan) {
  outcome(card, "pending");
  fill(
    card,
    el("h2", {}, holdUp ? "Not sent yet: kept on this device" : "Sending…"),
    scan.clientName ? el("p", { class: "for" }, `For ${scan.clientName} · session #${scan.sessionId}`) : null,
    el("p", { class: "raw" }, "Code ", el("code", {}, visible(scan.raw))),
    el(
      "p",
      { class: "detail" },
      holdUp === "signin"
        ? "It is sent by itself once you sign in again."
        : holdUp
          ? "It is sent by itself when the service answers again."
          : "Waiting for the service's answer.",
    ),
  );
}

function renderRecorded(card, scan, r) {
  const act = r.warnings.filter((w) => TO_ACT_ON.has(w.code));
  const notes = r.warnings.filter((w) => !TO_ACT_ON.has(w.code));
  const withReason = { ...r, override_reason: r.override_reason || scan.override };
  outcome(card, act.length ? "warning" : "recorded");
  fill(
    card,
    el("h2", {}, act.length ? "Recorded: something to act on" : "Recorded"),
    card.classList.contains("late") ? el("p", { class: "late-note" }, "Sent after the connection came back.") : null,
    el("p", { class: "product" }, productName(r.product)),
    el(
      "dl",
      { class: "facts" },
      el("div", {}, el("dt", {}, "Lot"), el("dd", { class: "mono lot" }, r.lot.lot_number)),
      el("div", {}, el("dt", {}, "Expiry"), el("dd", {}, r.lot.expiry_date)),
      el("div", {}, el("dt", {}, "Quantity"), el("dd", {}, r.quantity)),
      el("div", {}, el("dt", {}, "On hand after"), el("dd", {}, r.on_hand_after)),
    ),
    act.length
      ? el("ul", { class: "warnings" }, act.map((w) => el("li", { "data-code": w.code }, warningText(w, withReason))))
      : null,
    notes.length
      ? el("ul", { class: "notes" }, notes.map((w) => el("li", { "data-code": w.code }, warningText(w, withReason))))
      : null,
    technical({ raw: scan.raw, warnings: r.warnings.map((w) => w.code) }),
  );
}

function problemItem(problem) {
  const product = problem.product ? productName(problem.product) : null;
  const lot = problem.lot ? `lot ${problem.lot.lot_number}${problem.lot.expiry_date ? `, expiry ${problem.lot.expiry_date}` : ""}` : null;
  return [product, lot].filter(Boolean).join(" · ");
}

function renderRefused(card, scan, error) {
  const problem = error instanceof ApiError ? error.problem : {};
  const code = error instanceof ApiError ? error.code || `http_${error.status}` : "network";
  const [title, todo] = REFUSALS[code] || [problem.title || "Not accepted", message(error)];
  outcome(card, "refused");
  const item = problemItem(problem);
  let sentence = todo;
  if (code === "allergy_conflict" && Array.isArray(problem.ingredients)) {
    const who = scan.clientName || "The client";
    sentence = `${who} is allergic to ${problem.ingredients.join(", ")}. ${todo}`;
  }
  fill(
    card,
    el("h2", {}, `Not recorded: ${title}`),
    card.classList.contains("late") ? el("p", { class: "late-note" }, "Answered after the connection came back.") : null,
    item ? el("p", { class: "product" }, item) : null,
    el("p", { class: "detail" }, sentence),
    technical({ raw: scan.raw, code, status: error.status, detail: message(error) }),
  );
  if (code === "allergy_conflict") card.append(overrideForm(card, scan, problem));
  if (code === "override_reason_invalid" && scan.allergy) {
    card.append(overrideForm(card, scan, scan.allergy, message(error)));
  }
  if (code === "repeat_scan") card.append(repeatQuestion(card, scan, problem));
  if (code === "lot_ambiguous" && Array.isArray(problem.candidates)) {
    card.append(
      el(
        "table",
        { class: "data candidates" },
        el("thead", {}, el("tr", {}, el("th", {}, "Lot"), el("th", {}, "Expiry"), el("th", { class: "num" }, "On hand"))),
        el(
          "tbody",
          {},
          problem.candidates.map((c) =>
            el(
              "tr",
              {},
              el("td", { class: "mono" }, c.lot_number),
              el("td", {}, c.expiry_date),
              el("td", { class: "num" }, c.on_hand),
            ),
          ),
        ),
      ),
    );
  }
  if (code === "barcode_ambiguous" && Array.isArray(problem.readings)) {
    card.append(
      el("p", {}, "Possible readings:"),
      el("ul", {}, problem.readings.map((reading) => el("li", { class: "mono" }, visible(String(reading))))),
    );
  }
}

// The override names the refused ampoule (it re-sends that scan's own code), needs a reason in words, and an
// explicit tick. A scanner burst never reaches these fields (burst.js).
function overrideForm(card, scan, problem, serverError = null) {
  const ingredients = Array.isArray(problem.ingredients) ? problem.ingredients.join(", ") : "";
  const item = problemItem(problem) || "the refused ampoule";
  const who = scan.clientName || "this client";
  const reason = el("textarea", {
    id: "override-reason",
    name: "override_reason",
    rows: 2,
    maxlength: 2000,
    autocomplete: "off",
    "aria-describedby": "override-error",
  });
  const confirm = el("input", { type: "checkbox", id: "override-confirm", name: "override_confirm" });
  const error = el("p", { class: "field-error", id: "override-error", role: "alert", hidden: !serverError }, serverError || "");
  const form = el(
    "form",
    { class: "override", novalidate: true },
    el("h3", {}, "Use it anyway?"),
    el("p", {}, `${item}, on ${who}, despite the allergy${ingredients ? ` to ${ingredients}` : ""}.`),
    el("label", { for: "override-reason" }, "Clinical reason (in words)"),
    reason,
    error,
    el("label", { class: "confirm" }, confirm, ` I confirm: record ${item} on ${who} despite the allergy.`),
    el("button", { type: "submit", class: "danger" }, "Record anyway"),
  );
  const refuse = (text, field) => {
    error.textContent = text;
    show(error);
    field.focus();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) return refuse("Give the clinical reason.", reason);
    if (looksLikeCode(reason.value)) return refuse("This looks like a scanned code, not a reason: write it in words.", reason);
    if (text.length < MIN_REASON) return refuse(`Write the reason in words (at least ${MIN_REASON} characters).`, reason);
    if (!confirm.checked) return refuse("Tick the confirmation to record despite the allergy.", confirm);
    show(error, false);
    // A new key: another request (another body), not a retry of the refused one. Its card replaces this one.
    submitScan(scan.raw, { override: text, sessionId: scan.sessionId, replaces: card, allergy: problem });
    $("#scan-input").focus();
  });
  return form;
}

function repeatQuestion(card, scan, problem) {
  const seconds = Number(problem.seconds_ago);
  const ago = Number.isFinite(seconds) && seconds >= 1 ? `${Math.round(seconds)} s ago` : "just now";
  const yes = el("button", { type: "button", class: "primary", id: "repeat-yes" }, "Yes, record a second ampoule");
  const no = el("button", { type: "button", id: "repeat-no" }, "No, it was a double read");
  yes.addEventListener("click", () => {
    submitScan(scan.raw, { repeat: true, sessionId: scan.sessionId, replaces: card });
    $("#scan-input").focus();
  });
  no.addEventListener("click", () => {
    outcome(card, "recorded");
    fill(
      card,
      el("h2", {}, "Nothing more recorded"),
      el("p", { class: "detail" }, "The second read was ignored; the first scan stands."),
      technical({ raw: scan.raw, code: "repeat_scan" }),
    );
    $("#scan-input").focus();
  });
  setTimeout(() => yes.focus(), 0); // one key (Enter or Space) confirms
  return el(
    "div",
    { class: "repeat" },
    el("p", { class: "question" }, `Recorded ${ago}. A second ampoule?`),
    el("div", { class: "buttons" }, yes, no),
  );
}

// ------------------------------------------------------------------ waiting scans and signing in again

async function renderPending() {
  const scans = await queue.pending();
  const mine = scans.filter((s) => s.email === currentEmail());
  const others = scans.filter((s) => s.email !== currentEmail());
  for (const scan of mine) {
    const card = cardFor(scan.key);
    if (!card) lateKeys.add(scan.key);
    renderPendingCard(card || newCard(scan.key), scan);
  }
  const banner = $("#sync");
  const lines = [];
  if (holdUp === "offline") lines.push("No answer from the service (network or service down).");
  if (holdUp === "signin") lines.push("Your sign-in has ended.");
  if (mine.length) {
    const where = queue.isDurable() ? "on this device" : "in this tab only (this browser keeps no offline data)";
    const when = holdUp === "signin" ? "sign in again to send" : holdUp ? "sent by themselves when it is back" : "being sent";
    lines.push(`${mine.length} scan${mine.length > 1 ? "s are" : " is"} waiting ${where}: ${when}.`);
  } else if (holdUp === "offline") {
    lines.push("Scans are kept on this device until it is back.");
  }
  if (others.length) {
    const emails = [...new Set(others.map((s) => s.email))].join(", ");
    lines.push(`${others.length} scan${others.length > 1 ? "s" : ""} by ${emails} wait for that sign-in on this device.`);
  }
  fill(banner, lines.join(" "));
  if (holdUp === "signin" || (mine.length && !signedIn())) {
    banner.append(" ", el("button", { type: "button", class: "small", onclick: askSignIn }, "Sign in"));
  }
  banner.dataset.pending = String(mine.length);
  show(banner, lines.length > 0);
}

function askSignIn() {
  holdUp = "signin";
  const dialog = $("#signin-dialog");
  if (dialog.open) return;
  const email = sessionStorage.getItem(EMAIL) || "";
  $("#email").value = email;
  $("#password").value = "";
  show($("#signin-error"), false);
  dialog.showModal();
  (email ? $("#password") : $("#email")).focus();
  renderPending();
}

async function onSignIn(event) {
  event.preventDefault();
  const email = $("#email").value.trim();
  const password = $("#password").value;
  const error = $("#signin-error");
  if (!email || !password) {
    error.textContent = "Enter your e-mail and password.";
    show(error);
    return;
  }
  const button = $("#signin-form button[type=submit]");
  button.disabled = true;
  try {
    const before = currentEmail();
    await signIn(email, password);
    holdUp = null;
    $("#signin-dialog").close();
    header();
    if (before && before !== currentEmail()) chair.clients.clear();
    if (chair.session) await openSession(chair.session.id);
    else if (!chair.locations.length) {
      chair.locations = await api("GET", "/api/locations").catch(() => []);
      fillLocations(saved().locationId);
    }
    flush();
  } catch (failure) {
    error.textContent =
      failure instanceof ApiError && failure.status === 401 ? "Wrong e-mail or password." : message(failure);
    show(error);
    $("#password").select();
  } finally {
    button.disabled = false;
  }
}

Promise.resolve()
  .then(scanPage)
  .catch((error) => pageError(error));
