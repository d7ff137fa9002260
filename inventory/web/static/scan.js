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
  day,
  el,
  fill,
  goSignIn,
  header,
  list,
  message,
  newKey,
  number,
  pageError,
  productName,
  setUnauthorizedHandler,
  show,
  signIn,
  signedIn,
  t,
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

// What a refusal means at the chair and what to do about it, in the page's language; the service's own sentence
// and code go under "Technical details". Each title is a whole heading: the words around the code differ by language.
function refusalWords(code) {
  switch (code) {
    case "allergy_conflict":
      return [t("Not recorded: Client allergy"), t("Do not use it, or give a clinical reason below to use it anyway.")];
    case "lot_expired":
      return [t("Not recorded: Expired lot"), t("Do not use it. Put it aside for disposal and take another ampoule.")];
    case "lot_recalled":
      return [t("Not recorded: Recalled lot"), t("Do not use it. Put it aside and tell a manager.")];
    case "lot_quarantined":
      return [t("Not recorded: Quarantined lot"), t("Do not use it. Put it aside: a manager is checking this lot.")];
    case "serial_already_used":
      return [t("Not recorded: Already used"), t("This ampoule's serial number was already recorded. Check the ampoule.")];
    case "session_closed":
      return [t("Not recorded: Session closed"), t("This session is closed. Choose or start another session.")];
    case "lot_ambiguous":
      return [t("Not recorded: Which lot?"), t("Several lots of this product are here: scan the code that carries the lot number.")];
    case "lot_required":
      return [t("Not recorded: Lot needed"), t("Scan the code that carries the lot number, or type the lot number.")];
    case "product_unknown":
      return [t("Not recorded: Unknown product"), t("This product is not in the catalogue. Ask a manager to add it.")];
    case "barcode_invalid":
      return [t("Not recorded: Code not readable"), t("Scan it again, or type the code printed under the barcode.")];
    case "barcode_ambiguous":
      return [t("Not recorded: Code not clear"), t("The scanner lost the separators. Scan again, or type the lot number.")];
    case "repeat_scan":
      return [t("Not recorded yet: Same code again"), t("Nothing is recorded for this read until you answer.")];
    case "override_reason_invalid":
      return [t("Not recorded: Reason not accepted"), t("Write the clinical reason in words.")];
    case "container_expired":
      return [t("Not recorded: Opened container past its use-by"), t("Open a new container.")];
    case "container_insufficient":
      return [t("Not recorded: Not enough left in the container"), t("Open a new container.")];
    case "not_found":
      return [t("Not recorded: Session not found"), t("Choose the session again.")];
    case "forbidden":
      return [t("Not recorded: Not allowed"), t("Your role may not do this.")];
    case "validation_error":
      return [t("Not recorded: Not accepted"), t("Check what was scanned or typed.")];
    default:
      return [t("Not recorded"), t("The service did not accept this scan. Its reason is under “Technical details”.")];
  }
}

// Warnings that ask someone to act (amber); the others are notes on a use that needs nothing (green).
const TO_ACT_ON = new Set([
  "lot_not_received",
  "stock_discrepancy",
  "allergy_overridden",
  "expiry_mismatch",
  "not_in_protocol",
]);

/** A warning of a recorded use as a sentence for staff, naming what the use gives: the lot number, its expiry,
 * the on-hand left (only known right after the scan) and the override reason. */
function warningText(w, { lot, expiry, onHand = null, reason = null }) {
  switch (w.code) {
    case "lot_not_received":
      return t("Lot {lot} was never received here. It is recorded; tell a manager so the delivery is checked.", { lot });
    case "stock_discrepancy":
      return onHand === null
        ? t("More was used than the recorded stock here. It is recorded; tell a manager so the shelf is counted.")
        : t("More was used than the recorded stock here: on hand is now {on_hand}. It is recorded; tell a manager so the shelf is counted.", { on_hand: number(onHand) });
    case "allergy_overridden":
      return reason
        ? t("Allergy overridden, reason: “{reason}”.", { reason })
        : t("Allergy overridden.");
    case "expiry_mismatch":
      return t("The expiry on the code differs from the recorded one: check the box and tell a manager.");
    case "not_in_protocol":
      return t("This product is not part of the session's protocol.");
    case "fefo_violation":
      return t("Next time, take the lot that expires first: another lot here expires earlier.");
    case "expires_soon":
      return t("This lot expires soon, on {date}.", { date: day(w.expiry_date || expiry) });
    case "lot_inferred":
      return t("Lot {lot} was used: the only one of this product here.", { lot });
    case "container_opened":
      return t("A new container was opened.");
    default:
      return t("A warning to check: see “Technical details”.");
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
  return time(iso, timezone || undefined);
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
    el("option", { value: "" }, t("Choose a location…")),
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
      ? t("Show the on-screen keyboard (to type a code)")
      : t("Hide the on-screen keyboard (scanner only)");
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
    $("#agenda-title").textContent = t("Today here");
    list.append(el("li", { class: "muted" }, t("Choose the location first.")));
    return;
  }
  const place = chair.locations.find((l) => l.id === locationId);
  const today = localDate(place && place.timezone);
  $("#agenda-title").textContent = place ? t("Today at {location}", { location: place.name }) : t("Today here");
  let sessions;
  try {
    sessions = await api("GET", `/api/sessions?location_id=${locationId}&date=${today}`);
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
    const name = names[i] || t("Client {id}", { id: session.client_id });
    const zone = place && place.timezone;
    const when = session.scheduled_for
      ? clockAt(session.scheduled_for, zone)
      : t("opened at {time}", { time: clockAt(session.created_at, zone) });
    const status = sessionStatus(session.status);
    const course = session.sequence ? t("session {n} of the course", { n: session.sequence }) : null;
    const detail = [when, session.treatment, course]
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

function sessionStatus(status) {
  return { planned: t("booked"), open: t("open"), closed: t("closed") }[status] || status;
}

function allergyLine(allergies) {
  return allergies.length ? t("Allergies: {allergies}", { allergies: allergies.join(", ") }) : null;
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
      const allergies = allergyLine(client.allergies) || t("No known allergies");
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", class: "pick", onclick: () => startSession(client) },
            el("strong", {}, client.full_name),
            el("span", {}, [allergies, t("start a session")].join(" · ")),
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
    pageError(t("Choose the location first."));
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
      showSetup(error instanceof ApiError && error.status === 404 ? t("Session {id} no longer exists.", { id }) : message(error));
      return;
    }
  }
  if (session.status === "closed") {
    showSetup(t("Session #{id} is closed; choose or start another.", { id: session.id }));
    return;
  }
  if (!client) {
    try {
      client = await clientById(session.client_id);
    } catch {
      client = { full_name: session.client_name || t("Client {id}", { id: session.client_id }), allergies: [] };
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
  const reaction = $("#record-reaction");
  reaction.href = `/ui/sessions/${session.id}/reaction`;
  show(reaction);
  const place = chair.locations.find((l) => l.id === session.location_id);
  $("#session-client").textContent = client.full_name;
  $("#session-meta").textContent = [
    t("Session #{id}", { id: session.id }),
    place ? place.name : null,
    session.treatment,
    session.status === "planned"
      ? t("booked")
      : t("opened {when}", { when: dateTime(session.created_at, place ? place.timezone : undefined) }),
  ]
    .filter(Boolean)
    .join(" · ");
  const allergies = $("#session-allergies");
  allergies.textContent = allergyLine(client.allergies) || "";
  show(allergies, client.allergies.length > 0);
  $("#result").replaceChildren();
  show($("#result"), false);
  if (offline && holdUp === null) holdUp = "offline";
  pageError(null);
  show($("#setup"), false);
  show($("#chair"));
  renderUses(usages || []);
  renderChecklist(session.checklist || []);
  $("#scan-input").focus();
  await renderPending();
}

async function refreshUses() {
  if (!chair.session) return;
  try {
    const session = await api("GET", `/api/sessions/${chair.session.id}`);
    if (chair.session && session.id === chair.session.id) {
      renderUses(session.usages);
      renderChecklist(session.checklist || []);
    }
  } catch {
    // The list catches up with the next scan or reload; the scans themselves are safe in the queue.
  }
}

/** The session's protocol: each item ticked once the session used at least its quantity. */
function renderChecklist(items) {
  const list = $("#checklist");
  list.replaceChildren();
  show($("#protocol"), items.length > 0);
  for (const item of items) {
    const unit = item.unit && item.unit !== "each" ? ` ${item.unit}` : "";
    list.append(
      el(
        "li",
        { class: item.done ? "done" : "todo", "data-product": item.product_id },
        el("span", { class: "tick", "aria-hidden": "true" }, item.done ? "✓" : "○"),
        el("span", { class: "visually-hidden" }, item.done ? t("Done:") : t("To do:")),
        el("span", { class: "name" }, item.product_name),
        el(
          "span",
          { class: "amount" },
          t("{used} of {quantity}", { used: number(item.used), quantity: number(item.quantity) }) + unit,
        ),
      ),
    );
  }
}

function renderUses(usages) {
  const body = $("#uses");
  body.replaceChildren();
  show($("#no-uses"), usages.length === 0);
  for (const use of [...usages].reverse()) {
    const facts = { lot: use.lot_number, expiry: use.expiry_date };
    const notes = use.voided
      ? [t("Voided: {reason}", { reason: use.void_reason || "" })]
      : [
          use.override_reason ? t("Allergy override: {reason}", { reason: use.override_reason }) : null,
          ...use.warnings.filter((w) => w.code !== "allergy_overridden").map((w) => warningText(w, facts)),
        ].filter(Boolean);
    body.append(
      el(
        "tr",
        { class: use.voided ? "voided" : null, "data-usage": use.usage_id },
        el("td", { "data-label": t("Time") }, clockAt(use.used_at, chair.session && zoneOf(chair.session.location_id))),
        el("td", { "data-label": t("Product") }, use.product_name),
        el("td", { class: "mono", "data-label": t("Lot") }, use.lot_number),
        el("td", { "data-label": t("Expiry") }, day(use.expiry_date)),
        el("td", { class: "num", "data-label": t("Qty") }, number(use.quantity)),
        el("td", { class: "notes", "data-label": t("Notes") }, notes.map((note) => el("div", {}, note))),
        el(
          "td",
          { class: "row-actions" },
          use.voided ? null : el("button", { type: "button", class: "small", onclick: () => voidUse(use) }, t("Void")),
        ),
      ),
    );
  }
}

async function voidUse(use) {
  const reason = await ask({
    title: t("Void this use?"),
    text: t("{product}, lot {lot}. It stays on the record, marked voided, and the stock comes back.", {
      product: use.product_name,
      lot: use.lot_number,
    }),
    reason: true,
    ok: t("Void the use"),
    cancel: t("Keep it"),
    danger: true,
  });
  if (reason !== null) {
    try {
      await api("POST", `/api/usages/${use.usage_id}/void`, { body: { reason }, key: newKey() });
      pageError(null);
    } catch (error) {
      pageError(
        error instanceof ApiError && error.code === "forbidden" && !error.problem.required_role
          ? t("Staff may void only their own scans; ask a manager.")
          : error,
      );
    }
    await refreshUses();
  }
  $("#scan-input").focus();
}

async function closeSession() {
  const session = chair.session;
  if (!session) return;
  const answer = await ask({
    title: t("Close this session?"),
    text: t("No more ampoules can be recorded on it."),
    ok: t("Close session"),
    cancel: t("Keep it open"),
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
/** The quantity typed for the next scans: a dose in the product's unit (comma or point), 1 when empty. */
function doseQuantity() {
  const typed = ($("#scan-quantity")?.value || "").trim().replace(",", ".");
  if (!typed) return 1;
  // Kept as typed text: the service reads it as an exact decimal, never a float with binary noise.
  return /^\d+(\.\d{1,2})?$/.test(typed) ? typed : null;
}

async function submitScan(raw, { override = null, repeat = false, sessionId = null, replaces = null, allergy = null, openNew = false, quantity = undefined } = {}) {
  const target = sessionId || (chair.session && chair.session.id);
  if (!target) {
    pageError(t("Not recorded: a code was scanned but no session is open. Choose the client's session first, then scan the ampoule again."));
    return;
  }
  const dose = quantity === undefined ? doseQuantity() : quantity;
  if (dose === null) {
    pageError(t("Not recorded: the quantity must be a number with at most two decimals, such as 0.3."));
    return;
  }
  const scan = {
    key: newKey(),
    sessionId: target,
    raw,
    override,
    repeat,
    openNew,
    quantity: dose,
    allergy,
    email: currentEmail(),
    clientName: chair.client && chair.session && chair.session.id === target ? chair.client.full_name : "",
    createdAt: Date.now(),
  };
  // The card first: a flush already running picks the kept scan up and must find its card, not make a second.
  const card = newCard(scan.key, replaces);
  renderPendingCard(card, scan);
  await queue.keep(scan);
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
    const body = { barcode: scan.raw, quantity: scan.quantity === undefined ? 1 : jsonNumber(scan.quantity) };
    if (scan.override) body.override_reason = scan.override;
    if (scan.repeat) body.repeat = true;
    if (scan.openNew) body.open_new = true;
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

/** A typed quantity as the JSON number it is ("0.3" is sent as 0.3; whole ones as integers). */
function jsonNumber(value) {
  return typeof value === "number" ? value : Number(value);
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
    el("summary", {}, t("Technical details")),
    el(
      "dl",
      {},
      code ? [el("dt", {}, t("Code")), el("dd", { class: "code" }, status ? `${code} · HTTP ${status}` : code)] : null,
      warnings.length ? [el("dt", {}, t("Warnings")), el("dd", { class: "code" }, warnings.join(", "))] : null,
      detail ? [el("dt", {}, t("Service")), el("dd", {}, detail)] : null,
      [el("dt", {}, t("Scanned")), el("dd", { class: "raw" }, el("code", {}, visible(raw)))],
    ),
  );
}

function renderPendingCard(card, scan) {
  outcome(card, "pending");
  fill(
    card,
    el("h2", {}, holdUp ? t("Not sent yet: kept on this device") : t("Sending…")),
    scan.clientName
      ? el("p", { class: "for" }, t("For {client} · session #{id}", { client: scan.clientName, id: scan.sessionId }))
      : null,
    el("p", { class: "raw" }, t("Code:"), " ", el("code", {}, visible(scan.raw))),
    el(
      "p",
      { class: "detail" },
      holdUp === "signin"
        ? t("It is sent by itself once you sign in again.")
        : holdUp
          ? t("It is sent by itself when the service answers again.")
          : t("Waiting for the service's answer."),
    ),
  );
}

function renderRecorded(card, scan, r) {
  const act = r.warnings.filter((w) => TO_ACT_ON.has(w.code));
  const notes = r.warnings.filter((w) => !TO_ACT_ON.has(w.code));
  const facts = {
    lot: r.lot.lot_number,
    expiry: r.lot.expiry_date,
    onHand: r.on_hand_after,
    reason: r.override_reason || scan.override,
  };
  outcome(card, act.length ? "warning" : "recorded");
  fill(
    card,
    el("h2", {}, act.length ? t("Recorded: something to act on") : t("Recorded")),
    card.classList.contains("late") ? el("p", { class: "late-note" }, t("Sent after the connection came back.")) : null,
    el("p", { class: "product" }, productName(r.product)),
    el(
      "dl",
      { class: "facts" },
      el("div", {}, el("dt", {}, t("Lot")), el("dd", { class: "mono lot" }, r.lot.lot_number)),
      el("div", {}, el("dt", {}, t("Expiry")), el("dd", { class: "expiry" }, day(r.lot.expiry_date))),
      el("div", {}, el("dt", {}, t("Quantity")), el("dd", {}, amount(r.quantity, r.product))),
      el("div", {}, el("dt", {}, t("On hand after")), el("dd", {}, amount(r.on_hand_after, r.product))),
    ),
    r.container ? containerFacts(r.container, r.product) : null,
    act.length
      ? el("ul", { class: "warnings" }, act.map((w) => el("li", { "data-code": w.code }, warningText(w, facts))))
      : null,
    notes.length
      ? el("ul", { class: "notes" }, notes.map((w) => el("li", { "data-code": w.code }, warningText(w, facts))))
      : null,
    technical({ raw: scan.raw, warnings: r.warnings.map((w) => w.code) }),
  );
}

/** A quantity with its product's unit, in the page's language ("0.2 ml", "0,2 ml"; bare for units counted one by one). */
function amount(value, product) {
  const unit = product && product.unit && product.unit !== "each" ? ` ${product.unit}` : "";
  return `${number(value)}${unit}`;
}

/** The opened container a dose came from: since when, until when it may be used, and what is left in it. */
function containerFacts(c, product) {
  const zone = chair.session ? zoneOf(chair.session.location_id) : undefined;
  return el(
    "dl",
    { class: "facts container", "data-container": c.id },
    el("div", {}, el("dt", {}, t("Container opened")), el("dd", { class: "opened" }, dateTime(c.opened_at, zone))),
    el("div", {}, el("dt", {}, t("Use by")), el("dd", { class: "use-by" }, dateTime(c.use_by, zone))),
    el("div", {}, el("dt", {}, t("Left in it")), el("dd", { class: "remaining" }, amount(c.remaining, product))),
  );
}

/** The refused ampoule in words: its product, then its lot (and expiry), e.g. "Brand · Product · lot L1, expiry 1 Mar 2027". */
function problemItem(problem) {
  const product = problem.product ? productName(problem.product) : null;
  let lot = null;
  if (problem.lot) {
    const number = problem.lot.lot_number;
    lot = problem.lot.expiry_date
      ? t("lot {lot}, expiry {date}", { lot: number, date: day(problem.lot.expiry_date) })
      : t("lot {lot}", { lot: number });
  }
  return [product, lot].filter(Boolean).join(" · ");
}

/** Who is allergic to what, in one sentence (the client's name when the chair knows it). */
function allergySentence(clientName, ingredients) {
  return clientName
    ? t("{client} is allergic to {ingredients}.", { client: clientName, ingredients: list(ingredients) })
    : t("The client is allergic to {ingredients}.", { ingredients: list(ingredients) });
}

function renderRefused(card, scan, error) {
  const problem = error instanceof ApiError ? error.problem : {};
  const code = error instanceof ApiError ? error.code || `http_${error.status}` : "network";
  const [title, todo] = refusalWords(code);
  outcome(card, "refused");
  const item = problemItem(problem);
  let sentence = todo;
  if (code === "allergy_conflict" && Array.isArray(problem.ingredients)) {
    sentence = `${allergySentence(scan.clientName, problem.ingredients)} ${todo}`;
  }
  fill(
    card,
    el("h2", {}, title),
    card.classList.contains("late")
      ? el("p", { class: "late-note" }, t("Answered after the connection came back."))
      : null,
    item ? el("p", { class: "product" }, item) : null,
    el("p", { class: "detail" }, sentence),
    technical({ raw: scan.raw, code, status: error.status, detail: error.message }),
  );
  if (code === "allergy_conflict") card.append(overrideForm(card, scan, problem));
  if (code === "override_reason_invalid" && scan.allergy) {
    card.append(overrideForm(card, scan, scan.allergy, todo));
  }
  if (code === "repeat_scan") card.append(repeatQuestion(card, scan, problem));
  if ((code === "container_expired" || code === "container_insufficient") && !scan.openNew && problem.container) {
    const c = problem.container;
    const zone = chair.session ? zoneOf(chair.session.location_id) : undefined;
    const renew = el("button", { type: "button", class: "primary", id: "open-new" }, t("Dispose of it and open a new container"));
    renew.addEventListener("click", () => {
      submitScan(scan.raw, { repeat: true, openNew: true, sessionId: scan.sessionId, replaces: card, quantity: scan.quantity });
      $("#scan-input").focus();
    });
    card.append(
      el(
        "div",
        { class: "renew" },
        el(
          "p",
          { class: "container-left" },
          t("The open container has {remaining} left; use by {when}.", {
            remaining: amount(c.remaining, problem.product),
            when: dateTime(c.use_by, zone),
          }),
        ),
        renew,
      ),
    );
  }
  if (code === "lot_ambiguous" && Array.isArray(problem.candidates)) {
    card.append(
      el(
        "table",
        { class: "data candidates" },
        el(
          "thead",
          {},
          el("tr", {}, el("th", {}, t("Lot")), el("th", {}, t("Expiry")), el("th", { class: "num" }, t("On hand"))),
        ),
        el(
          "tbody",
          {},
          problem.candidates.map((c) =>
            el(
              "tr",
              {},
              el("td", { class: "mono" }, c.lot_number),
              el("td", {}, day(c.expiry_date)),
              el("td", { class: "num" }, number(c.on_hand)),
            ),
          ),
        ),
      ),
    );
  }
  if (code === "barcode_ambiguous" && Array.isArray(problem.readings)) {
    card.append(
      el("p", {}, t("Possible readings:")),
      el("ul", {}, problem.readings.map((reading) => el("li", { class: "mono" }, visible(String(reading))))),
    );
  }
}

/** The override's confirmation, naming the ampoule and the client when the chair knows them. */
function confirmText(item, clientName) {
  if (item && clientName) {
    return t("I confirm: record {item} on {client} despite the allergy.", { item, client: clientName });
  }
  if (item) return t("I confirm: record {item} on this client despite the allergy.", { item });
  if (clientName) return t("I confirm: record this ampoule on {client} despite the allergy.", { client: clientName });
  return t("I confirm: record this ampoule on this client despite the allergy.");
}

// The override names the refused ampoule (it re-sends that scan's own code), needs a reason in words, and an
// explicit tick. A scanner burst never reaches these fields (burst.js).
function overrideForm(card, scan, problem, serverError = null) {
  const item = problemItem(problem);
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
    el("h3", {}, t("Use it anyway?")),
    el("p", {}, t("Only as a clinical decision: write the reason in words, then confirm.")),
    el("label", { for: "override-reason" }, t("Clinical reason (in words)")),
    reason,
    error,
    el("label", { class: "confirm" }, confirm, " ", confirmText(item, scan.clientName)),
    el("button", { type: "submit", class: "danger" }, t("Record anyway")),
  );
  const refuse = (text, field) => {
    error.textContent = text;
    show(error);
    field.focus();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) return refuse(t("Give the clinical reason."), reason);
    if (looksLikeCode(reason.value)) {
      return refuse(t("This looks like a scanned code, not a reason: write it in words."), reason);
    }
    if (text.length < MIN_REASON) {
      return refuse(t("Write the reason in words (at least {n} characters).", { n: MIN_REASON }), reason);
    }
    if (!confirm.checked) return refuse(t("Tick the confirmation to record despite the allergy."), confirm);
    show(error, false);
    // A new key: another request (another body), not a retry of the refused one. Its card replaces this one.
    submitScan(scan.raw, { override: text, sessionId: scan.sessionId, replaces: card, allergy: problem });
    $("#scan-input").focus();
  });
  return form;
}

function repeatQuestion(card, scan, problem) {
  const seconds = Math.round(Number(problem.seconds_ago));
  let question;
  if (!Number.isFinite(seconds) || seconds < 1) question = t("This code was just recorded. A second ampoule?");
  else if (seconds === 1) question = t("This code was recorded 1 second ago. A second ampoule?");
  else question = t("This code was recorded {n} seconds ago. A second ampoule?", { n: seconds });
  const yes = el("button", { type: "button", class: "primary", id: "repeat-yes" }, t("Yes, record a second ampoule"));
  const no = el("button", { type: "button", id: "repeat-no" }, t("No, it was a double read"));
  yes.addEventListener("click", () => {
    submitScan(scan.raw, { repeat: true, sessionId: scan.sessionId, replaces: card });
    $("#scan-input").focus();
  });
  no.addEventListener("click", () => {
    outcome(card, "recorded");
    fill(
      card,
      el("h2", {}, t("Nothing more recorded")),
      el("p", { class: "detail" }, t("The second read was ignored; the first scan stands.")),
      technical({ raw: scan.raw, code: "repeat_scan" }),
    );
    $("#scan-input").focus();
  });
  setTimeout(() => yes.focus(), 0); // one key (Enter or Space) confirms
  return el(
    "div",
    { class: "repeat" },
    el("p", { class: "question" }, question),
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
  if (holdUp === "offline") lines.push(t("No answer from the service (network or service down)."));
  if (holdUp === "signin") lines.push(t("Your sign-in has ended."));
  if (mine.length) lines.push(waitingLine(mine.length, queue.isDurable()), whenSent(mine.length));
  else if (holdUp === "offline") lines.push(t("Scans are kept on this device until the service is back."));
  if (others.length) {
    const emails = [...new Set(others.map((s) => s.email))].join(", ");
    lines.push(
      others.length === 1
        ? t("1 scan by {emails} is waiting on this device for that sign-in.", { emails })
        : t("{n} scans by {emails} are waiting on this device for that sign-in.", { n: others.length, emails }),
    );
  }
  fill(banner, lines.join(" "));
  if (holdUp === "signin" || (mine.length && !signedIn())) {
    banner.append(" ", el("button", { type: "button", class: "small", onclick: askSignIn }, t("Sign in")));
  }
  banner.dataset.pending = String(mine.length);
  show(banner, lines.length > 0);
}

/** How many of this user's scans wait, and where (a browser without IndexedDB keeps them in the tab only). */
function waitingLine(n, durable) {
  if (durable) return n === 1 ? t("1 scan is waiting on this device.") : t("{n} scans are waiting on this device.", { n });
  return n === 1
    ? t("1 scan is waiting in this tab only (this browser keeps no offline data).")
    : t("{n} scans are waiting in this tab only (this browser keeps no offline data).", { n });
}

/** When the waiting scans go out. */
function whenSent(n) {
  if (holdUp === "signin") return n === 1 ? t("Sign in again to send it.") : t("Sign in again to send them.");
  if (holdUp) {
    return n === 1
      ? t("It is sent by itself when the service is back.")
      : t("They are sent by themselves when the service is back.");
  }
  return t("Sending now.");
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
    error.textContent = t("Enter your e-mail and password.");
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
      failure instanceof ApiError && failure.status === 401 ? t("Wrong e-mail or password.") : message(failure);
    show(error);
    $("#password").select();
  } finally {
    button.disabled = false;
  }
}

Promise.resolve()
  .then(scanPage)
  .catch((error) => pageError(error));
