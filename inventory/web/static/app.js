// meso-inventory pages. One module for every page; the pages hold no data: every data call goes to /api with
// the bearer token, which lives in sessionStorage only (gone when the tab closes). Text from the service is
// put into the page with textContent, never parsed as HTML.

import { cameraAvailable, openCamera } from "/ui/camera.js";

const TOKEN = "meso.token";
const EMAIL = "meso.email";
const CHAIR = "meso.chair";
const KEYBOARD = "meso.keyboard";

// ------------------------------------------------------------------ small helpers

const $ = (selector, root = document) => root.querySelector(selector);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Build an element; children are nodes or strings (always text, never HTML). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children; null and false children are left out (replaceChildren would print "null"). */
function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

function show(node, visible = true) {
  node.hidden = !visible;
}

/** A random v4 UUID; crypto.randomUUID only exists on https or localhost, a clinic LAN may be plain http. */
function newKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Control characters made visible: the GS separator of GS1 codes shows as ‹GS›, others as ‹xx›. */
function visible(raw) {
  return raw.replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === "\x1d" ? "‹GS›" : `‹${c.charCodeAt(0).toString(16).padStart(2, "0")}›`,
  );
}

function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function decimal(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function productName(product) {
  return product.brand ? `${product.brand} · ${product.name}` : product.name;
}

// ------------------------------------------------------------------ the token and the API

function token() {
  return sessionStorage.getItem(TOKEN);
}

/** The token's claims (role, exp) for display only; the service decides what a user may do. */
function claims() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

function signedIn() {
  const c = claims();
  return Boolean(c && (!c.exp || c.exp * 1000 > Date.now()));
}

function goSignIn() {
  sessionStorage.removeItem(TOKEN);
  location.assign(`/ui/?next=${encodeURIComponent(location.pathname + location.search)}`);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  get code() {
    return this.problem.code || "";
  }
}

class NetworkError extends Error {}

/** Call the API with the bearer token; throws ApiError (problem details) or NetworkError. */
async function api(method, path, { body, key, blob } = {}) {
  const headers = { Accept: blob ? "*/*" : "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new NetworkError("The service could not be reached.");
  }
  if (response.status === 401 && path !== "/api/auth/token") {
    goSignIn();
    throw new ApiError(401, { detail: "Your sign-in has ended; sign in again." });
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `The service answered ${response.status}.` };
    }
    throw new ApiError(response.status, problem);
  }
  if (blob) return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

/** A sentence for the user; a 403 says which role is needed and who is signed in. */
function message(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      const role = error.problem.required_role;
      const c = claims();
      const who = c ? ` You are signed in as ${sessionStorage.getItem(EMAIL) || "a user"} (${c.role}).` : "";
      return (role ? `This needs the ${role} role.` : error.problem.detail || "Your role may not do this.") + who;
    }
    return error.problem.detail || error.message;
  }
  if (error instanceof NetworkError) return "The service could not be reached. Check the connection and try again.";
  return String((error && error.message) || error);
}

function pageError(error) {
  const banner = $("#page-error");
  if (!banner) return;
  if (error === null) {
    show(banner, false);
    return;
  }
  banner.textContent = typeof error === "string" ? error : message(error);
  show(banner);
}

// ------------------------------------------------------------------ header, sign-in and sign-out

function header() {
  const c = claims();
  const email = sessionStorage.getItem(EMAIL) || "";
  for (const node of document.querySelectorAll(".who")) node.textContent = c ? `${email} · ${c.role}` : "";
  for (const button of document.querySelectorAll(".signout")) button.addEventListener("click", signOut);
}

async function signOut() {
  const value = token();
  try {
    if (value) await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${value}` } });
  } catch {
    // Signing out locally still happens; the token expires on its own.
  }
  sessionStorage.clear();
  location.assign("/ui/");
}

function requireSignIn() {
  if (signedIn()) return true;
  goSignIn();
  return false;
}

/** Only go back to one of these pages after signing in (never to another site). */
function safeNext(next) {
  return next && /^\/ui\/[a-z]*(\?[\w=&%-]*)?$/.test(next) ? next : null;
}

function homePage() {
  const next = safeNext(new URLSearchParams(location.search).get("next"));
  if (signedIn()) {
    for (const node of document.querySelectorAll(".signed-in")) show(node);
    show($("#menu"));
    if (claims().role === "staff") {
      for (const tile of document.querySelectorAll('.tile[href="/ui/alerts"], .tile[href="/ui/recall"]')) {
        tile.classList.add("dim");
        tile.append(el("em", {}, "Needs the manager role."));
      }
    }
    return;
  }
  show($("#signin"));
  $("#email").focus(); // autofocus does not apply to a field that was hidden when the page loaded
  const form = $("#signin-form");
  const error = $("#signin-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("#email").value.trim();
    const password = $("#password").value;
    if (!email || !password) {
      error.textContent = "Enter your e-mail and password.";
      show(error);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    show(error, false);
    try {
      const result = await api("POST", "/api/auth/token", { body: { email, password } });
      sessionStorage.setItem(TOKEN, result.access_token);
      sessionStorage.setItem(EMAIL, email);
      location.assign(next || "/ui/");
    } catch (failure) {
      error.textContent =
        failure instanceof ApiError && failure.status === 401 ? "Wrong e-mail or password." : message(failure);
      show(error);
      button.disabled = false;
      $("#password").select();
    }
  });
}

// ------------------------------------------------------------------ a question in a dialog

/** Ask for confirmation (and a reason when `reason` is set); resolves to the reason, "" or null (cancelled). */
function ask({ title, text, reason = false, ok = "OK", danger = false }) {
  const dialog = $("#ask");
  const input = $("#ask-reason");
  $("#ask-title").textContent = title;
  $("#ask-text").textContent = text || "";
  show($("#ask-reason-label"), reason);
  show(input, reason);
  input.value = "";
  input.required = reason;
  const okButton = $("#ask-ok");
  okButton.textContent = ok;
  okButton.className = danger ? "danger" : "primary";
  return new Promise((resolve) => {
    const form = $("#ask-form");
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      $("#ask-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      if (reason && !input.value.trim()) {
        input.focus();
        return;
      }
      done(reason ? input.value.trim() : "");
    };
    const onCancel = (event) => {
      event.preventDefault();
      done(null);
    };
    form.addEventListener("submit", onSubmit);
    $("#ask-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    (reason ? input : okButton).focus();
  });
}

// ------------------------------------------------------------------ scan at the chair

const chair = { locations: [], clients: new Map(), session: null, client: null };

async function clientById(id) {
  if (!chair.clients.has(id)) chair.clients.set(id, api("GET", `/api/clients/${id}`));
  return chair.clients.get(id);
}

function saveChair(values) {
  const saved = JSON.parse(sessionStorage.getItem(CHAIR) || "{}");
  sessionStorage.setItem(CHAIR, JSON.stringify({ ...saved, ...values }));
}

async function scanPage() {
  if (!requireSignIn()) return;
  const saved = JSON.parse(sessionStorage.getItem(CHAIR) || "{}");
  try {
    chair.locations = await api("GET", "/api/locations");
  } catch (error) {
    pageError(error);
    return;
  }
  const select = $("#location");
  select.replaceChildren(
    el("option", { value: "" }, "Choose a location…"),
    ...chair.locations.map((l) => el("option", { value: l.id }, l.name)),
  );
  if (chair.locations.some((l) => l.id === saved.locationId)) select.value = String(saved.locationId);
  select.addEventListener("change", () => {
    saveChair({ locationId: Number(select.value) || null });
    loadOpenSessions();
  });
  $("#client-search").addEventListener("submit", searchClients);
  $("#change-session").addEventListener("click", () => showSetup());
  $("#close-session").addEventListener("click", closeSession);
  $("#scan-form").addEventListener("submit", onScan);
  setupKeyboardToggle();
  setupCamera();
  // A keyboard-wedge scanner types wherever the focus is: bring stray keystrokes back to the scan input.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if ($("#chair").hidden || $("#ask").open) return;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return;
    if (target instanceof HTMLTextAreaElement) return;
    if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) $("#scan-input").focus();
  });
  if (saved.sessionId) await openSession(saved.sessionId);
  else showSetup();
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

/** Camera scanning (camera.js): each code read goes the same way as a typed scan. */
let closeCamera = () => {};

function setupCamera() {
  const toggle = $("#camera-toggle");
  const panel = $("#camera-panel");
  if (!cameraAvailable()) return;
  show(toggle);
  let camera = null;
  const close = () => {
    if (camera) camera.then((handle) => handle.stop());
    camera = null;
    show(panel, false);
  };
  const onText = (text) => {
    if (chair.session) recordScan({ raw: text, key: newKey(), override: null, sessionId: chair.session.id });
  };
  toggle.addEventListener("click", () => {
    if (camera) return close();
    show(panel);
    camera = openCamera($("#camera-video"), onText, (text) => {
      close();
      pageError(text);
    });
  });
  $("#camera-close").addEventListener("click", close);
  closeCamera = close;
}

function showSetup(notice) {
  closeCamera();
  saveChair({ sessionId: null });
  chair.session = null;
  show($("#chair"), false);
  show($("#setup"));
  pageError(notice || null);
  loadOpenSessions();
}

async function loadOpenSessions() {
  const list = $("#open-sessions");
  const locationId = Number($("#location").value);
  list.replaceChildren();
  show($("#no-sessions"), false);
  if (!locationId) {
    list.append(el("li", { class: "muted" }, "Choose the location first."));
    return;
  }
  try {
    const sessions = await api("GET", `/api/sessions?status=open&location_id=${locationId}`);
    const clients = await Promise.all(sessions.map((s) => clientById(s.client_id).catch(() => null)));
    if (Number($("#location").value) !== locationId) return;
    show($("#no-sessions"), sessions.length === 0);
    sessions.forEach((session, i) => {
      const name = clients[i] ? clients[i].full_name : `Client ${session.client_id}`;
      const detail = [session.treatment, `opened ${dateTime(session.created_at)}`, `#${session.id}`]
        .filter(Boolean)
        .join(" · ");
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", class: "pick", "data-session": session.id, onclick: () => openSession(session.id) },
            el("strong", {}, name),
            el("span", {}, detail),
          ),
        ),
      );
    });
  } catch (error) {
    pageError(error);
  }
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
  try {
    session = await api("GET", `/api/sessions/${id}`);
  } catch (error) {
    showSetup(error instanceof ApiError && error.status === 404 ? `Session ${id} no longer exists.` : message(error));
    return;
  }
  if (session.status !== "open") {
    showSetup(`Session #${session.id} is ${session.status}; choose or start another.`);
    return;
  }
  let client;
  try {
    client = await clientById(session.client_id);
  } catch {
    client = { full_name: `Client ${session.client_id}`, allergies: [] };
  }
  chair.session = session;
  chair.client = client;
  const select = $("#location");
  select.value = String(session.location_id);
  saveChair({ locationId: session.location_id, sessionId: session.id });
  const place = chair.locations.find((l) => l.id === session.location_id);
  $("#session-client").textContent = client.full_name;
  $("#session-meta").textContent = [
    `Session #${session.id}`,
    place ? place.name : null,
    session.treatment,
    `opened ${dateTime(session.created_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const allergies = $("#session-allergies");
  allergies.textContent = client.allergies.length ? `Allergies: ${client.allergies.join(", ")}` : "";
  show(allergies, client.allergies.length > 0);
  $("#result").replaceChildren();
  show($("#result"), false);
  pageError(null);
  show($("#setup"), false);
  show($("#chair"));
  renderUses(session.usages);
  $("#scan-input").focus();
}

async function refreshUses() {
  if (!chair.session) return;
  try {
    const session = await api("GET", `/api/sessions/${chair.session.id}`);
    if (chair.session && session.id === chair.session.id) renderUses(session.usages);
  } catch (error) {
    pageError(error);
  }
}

function renderUses(usages) {
  const body = $("#uses");
  body.replaceChildren();
  show($("#no-uses"), usages.length === 0);
  for (const use of [...usages].reverse()) {
    const notes = use.voided
      ? `Voided: ${use.void_reason || ""}`
      : use.warnings.map((w) => w.message || w.code).join(" · ");
    body.append(
      el(
        "tr",
        { class: use.voided ? "voided" : null, "data-usage": use.usage_id },
        el("td", {}, time(use.used_at)),
        el("td", {}, use.product_name),
        el("td", { class: "mono" }, use.lot_number),
        el("td", {}, use.expiry_date),
        el("td", { class: "num" }, use.quantity),
        el("td", {}, notes),
        el(
          "td",
          {},
          use.voided
            ? null
            : el("button", { type: "button", class: "small", onclick: () => voidUse(use) }, "Void"),
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

// Each Enter with text in the box is one scan with its own Idempotency-Key; the box is emptied at once, so a
// second Enter (or a second click) never sends the scan again, and the next scan goes into an empty box.
// Retries after a lost answer reuse the scan's key: the service answers with the first result, records once.
function onScan(event) {
  event.preventDefault();
  const input = $("#scan-input");
  const raw = input.value;
  input.value = "";
  input.focus();
  if (!raw.trim() || !chair.session) return;
  recordScan({ raw, key: newKey(), override: null, sessionId: chair.session.id });
}

const RETRY_DELAYS = [300, 1000, 2500];

async function recordScan(scan, replacing = null) {
  const card = el("article", { class: "scan-result pending" }, el("h2", {}, "Recording…"), rawLine(scan));
  const results = $("#result");
  if (replacing) replacing.remove();
  for (const older of results.children) older.classList.remove("latest");
  card.classList.add("latest");
  results.prepend(card);
  while (results.children.length > 4) results.lastElementChild.remove();
  show(results);
  const body = { barcode: scan.raw, quantity: 1 };
  if (scan.override) body.override_reason = scan.override;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await api("POST", `/api/sessions/${scan.sessionId}/scans`, { body, key: scan.key });
      renderRecorded(card, scan, result);
      break;
    } catch (error) {
      const retry =
        error instanceof NetworkError ||
        (error instanceof ApiError &&
          (error.code === "idempotency_key_in_flight" || error.status === 503 || error.status === 502));
      if (retry && attempt < RETRY_DELAYS.length) {
        await sleep(RETRY_DELAYS[attempt]);
        continue;
      }
      renderRefused(card, scan, error);
      break;
    }
  }
  await refreshUses();
}

function rawLine(scan) {
  return el("p", { class: "raw" }, "Scanned: ", el("code", {}, visible(scan.raw)));
}

function renderRecorded(card, scan, r) {
  const warned = r.warnings.length > 0;
  card.className = `scan-result ${warned ? "warn" : "ok"} ${card.classList.contains("latest") ? "latest" : ""}`;
  fill(
    card,
    el("h2", {}, warned ? "Recorded – check the warnings" : "Recorded"),
    el("p", { class: "product" }, productName(r.product)),
    el(
      "dl",
      { class: "facts" },
      el("div", {}, el("dt", {}, "Lot"), el("dd", { class: "mono lot" }, r.lot.lot_number)),
      el("div", {}, el("dt", {}, "Expiry"), el("dd", {}, r.lot.expiry_date)),
      el("div", {}, el("dt", {}, "Quantity"), el("dd", {}, r.quantity)),
      el("div", {}, el("dt", {}, "On hand after"), el("dd", {}, r.on_hand_after)),
    ),
    warned
      ? el(
          "ul",
          { class: "warnings" },
          r.warnings.map((w) => el("li", { "data-code": w.code }, w.message, " ", el("small", {}, `(${w.code})`))),
        )
      : null,
    rawLine(scan),
  );
}

function renderRefused(card, scan, error) {
  card.className = `scan-result refused ${card.classList.contains("latest") ? "latest" : ""}`;
  const code = error instanceof ApiError ? error.code : "network";
  const problem = error instanceof ApiError ? error.problem : {};
  fill(
    card,
    el("h2", {}, error instanceof NetworkError ? "Not confirmed – no answer from the service" : "Not recorded"),
    el("p", { class: "detail" }, message(error)),
    el("p", { class: "code" }, error instanceof ApiError ? `${code} · HTTP ${error.status}` : code),
    rawLine(scan),
  );
  if (error instanceof NetworkError) {
    card.append(
      el(
        "button",
        { type: "button", class: "primary", onclick: () => recordScan(scan, card) },
        "Try again (it is recorded once at most)",
      ),
    );
  }
  if (code === "allergy_conflict") card.append(overrideForm(scan, problem));
  if (code === "lot_ambiguous" && Array.isArray(problem.candidates)) {
    card.append(
      el("p", {}, "Several lots of this product are here. Scan the lot's own code (with its lot number):"),
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
      el("p", {}, "The scanner lost the separators; possible readings:"),
      el(
        "ul",
        {},
        problem.readings.map((reading) => el("li", { class: "mono" }, visible(String(reading)))),
      ),
    );
  }
}

function overrideForm(scan, problem) {
  const ingredients = Array.isArray(problem.ingredients) ? problem.ingredients.join(", ") : "";
  const input = el("input", { type: "text", id: "override-reason", autocomplete: "off", required: true, maxlength: 2000 });
  const form = el(
    "form",
    { class: "override" },
    ingredients ? el("p", { class: "allergy" }, `Allergy: ${ingredients}`) : null,
    el("label", { for: "override-reason" }, "Use it anyway? Give the clinical reason"),
    el("div", { class: "row" }, input, el("button", { type: "submit", class: "danger" }, "Record anyway")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      input.focus();
      return;
    }
    // A new key: this is another request (another body), not a retry of the refused one. Its card replaces
    // the refusal's.
    recordScan({ raw: scan.raw, key: newKey(), override: reason, sessionId: scan.sessionId }, form.closest("article"));
    $("#scan-input").focus();
  });
  return form;
}

// ------------------------------------------------------------------ alerts (managers)

const alertsState = { locations: new Map() };

async function alertsPage() {
  if (!requireSignIn()) return;
  try {
    await loadReorder();
  } catch (error) {
    pageError(error);
    return;
  }
  show($("#content"));
  try {
    const locations = await api("GET", "/api/locations");
    const select = $("#alert-location");
    for (const l of locations) select.append(el("option", { value: l.id }, l.name));
    select.addEventListener("change", async () => {
      try {
        await Promise.all([loadReorder(), loadExpiry()]);
        pageError(null);
      } catch (error) {
        pageError(error);
      }
    });
  } catch (error) {
    pageError(error);
  }
  $("#expiry-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await loadExpiry();
      pageError(null);
    } catch (error) {
      pageError(error);
    }
  });
  $("#expiry-view").addEventListener("change", () => $("#expiry-form").requestSubmit());
  try {
    await loadExpiry();
  } catch (error) {
    pageError(error);
  }
}

function locationFilter() {
  const value = $("#alert-location").value;
  return value ? `&location_id=${encodeURIComponent(value)}` : "";
}

async function loadReorder() {
  const data = await api("GET", `/api/alerts/reorder?status=open${locationFilter()}`);
  const body = $("#reorder");
  body.replaceChildren(...data.items.map(reorderRow));
  show($("#no-reorder"), data.items.length === 0);
}

function reorderRow(a) {
  const why = [
    ["Lead time", a.lead_time_days, "days"],
    ["Box size", a.box_size, ""],
    ["Used in the last 28 days", a.used_last_28_days, ""],
    ["Booked course sessions in the lead time", a.forecast_courses, ""],
    ["Trend demand", decimal(a.forecast_trend), ""],
    ["Expected demand in the lead time", decimal(a.forecast_demand), ""],
    ["Expiring within the lead time", a.expiring_within_lead_time, ""],
    ["Of which not used in time", decimal(a.expiring_unused), ""],
    ["Evaluated on", a.evaluated_on, ""],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "–");
  const ack = a.acknowledged
    ? el(
        "div",
        { class: "acked" },
        el("span", { class: "badge status-active" }, "Acknowledged"),
        el("small", {}, [a.acknowledged_by && a.acknowledged_by.email ? `by ${a.acknowledged_by.email}` : "", dateTime(a.acknowledged_at)].join(" ")),
      )
    : el("button", { type: "button", class: "small", onclick: (event) => acknowledge(a, event.target) }, "Acknowledge");
  return el(
    "tr",
    { "data-alert": a.id },
    el(
      "td",
      { class: "product-cell" },
      el("strong", {}, productName(a.product)),
      el("small", { class: "muted" }, `open since ${dateTime(a.opened_at)}`),
      why.length
        ? el(
            "details",
            {},
            el("summary", {}, "Why"),
            el("dl", { class: "why" }, why.map(([label, value, unit]) => [el("dt", {}, label), el("dd", {}, `${value} ${unit}`.trim())])),
          )
        : null,
    ),
    el("td", {}, a.location.name),
    el("td", { class: "num strong" }, a.usable_on_hand),
    el("td", { class: "num" }, a.reorder_point),
    el("td", { class: "num" }, a.par_level),
    el("td", { class: "num" }, a.lead_time_days ?? "–"),
    el("td", { class: "num" }, decimal(a.average_daily_use, 2)),
    el("td", { class: "num" }, decimal(a.projected_at_arrival)),
    el("td", { class: "num strong" }, a.suggested_quantity),
    el("td", { class: "ack" }, ack),
  );
}

async function acknowledge(alert, button) {
  button.disabled = true;
  try {
    const updated = await api("POST", `/api/alerts/reorder/${alert.id}/acknowledge`);
    const row = document.querySelector(`tr[data-alert="${alert.id}"]`);
    if (row) row.replaceWith(reorderRow(updated));
    pageError(null);
  } catch (error) {
    button.disabled = false;
    pageError(error);
  }
}

async function loadExpiry() {
  const view = $("#expiry-view").value;
  let days = Number.parseInt($("#within-days").value, 10);
  if (!Number.isFinite(days) || days < 0) days = 30;
  days = Math.min(days, 3650);
  $("#within-days").value = String(days);
  const query = `within_days=${days}${view ? `&view=${view}` : ""}${locationFilter()}`;
  const data = await api("GET", `/api/alerts/expiry?${query}`);
  $("#expiry").replaceChildren(
    ...data.items.map((item) =>
      el(
        "tr",
        { class: item.days_left < 0 ? "expired" : item.days_left <= 7 ? "soon" : null },
        el("td", {}, productName(item.product)),
        el("td", { class: "mono" }, item.lot.lot_number),
        el("td", { class: "date" }, item.lot.expiry_date),
        el(
          "td",
          { class: "num strong" },
          item.days_left < 0 ? `expired ${-item.days_left} d ago` : String(item.days_left),
        ),
        el("td", {}, item.location.name),
        el("td", { class: "num" }, item.on_hand),
        el("td", { class: "num" }, decimal(item.expected_use)),
        el("td", { class: "num" }, item.surplus ?? "–"),
        el("td", {}, [item.state, item.lot.status !== "active" ? item.lot.status : null].filter(Boolean).join(", ")),
      ),
    ),
  );
  show($("#no-expiry"), data.items.length === 0);
}

// ------------------------------------------------------------------ trace and recall (managers)

const recallState = { lastBody: null, key: null, caseId: null };

async function recallPage() {
  if (!requireSignIn()) return;
  $("#trace-form").addEventListener("submit", trace);
  $("#recall-form").addEventListener("submit", createRecall);
  $("#csv").addEventListener("click", downloadCsv);
  const caseId = Number(new URLSearchParams(location.search).get("case"));
  if (caseId > 0) await loadCase(caseId);
  $("#lot-number").focus();
}

async function trace(event) {
  event.preventDefault();
  const lotNumber = $("#lot-number").value.trim();
  if (!lotNumber) return;
  const results = $("#trace-results");
  try {
    const data = await api("GET", `/api/trace/lot?lot_number=${encodeURIComponent(lotNumber)}`);
    pageError(null);
    results.replaceChildren();
    if (data.matches.length) results.append(el("h2", {}, `Lot ${lotNumber}`), ...data.matches.map((m) => lotCard(m, true)));
    if (data.similar.length) {
      results.append(
        el("h2", {}, "Look-alike lot numbers"),
        el("p", { class: "muted" }, "Numbers that differ only in separators or leading zeros. Tick them if the notice means them too."),
        ...data.similar.map((m) => lotCard(m, false)),
      );
      if (data.similar_truncated) results.append(el("p", { class: "muted" }, "More look-alikes exist; narrow the search."));
    }
    const found = data.matches.length + data.similar.length;
    const empty = $("#trace-empty");
    empty.textContent = found ? "" : `No lot numbered “${lotNumber}” and no look-alike.`;
    show(empty, found === 0);
    show($("#recall-form"), found > 0);
    show($("#trace"));
    updateSelected();
  } catch (error) {
    show($("#trace"), false);
    pageError(error);
  }
}

function lotCard(match, checked) {
  const lot = match.lot;
  const box = el("input", { type: "checkbox", class: "pick-lot", value: lot.id, checked: checked && lot.status !== "recalled" });
  box.addEventListener("change", updateSelected);
  const clients = match.usages;
  return el(
    "article",
    { class: "card lot", "data-lot": lot.id },
    el(
      "label",
      { class: "lot-head" },
      box,
      el("strong", {}, `${match.brand} · ${match.product.name}`),
      el("span", { class: "mono" }, `Lot ${lot.lot_number}`),
      el("span", {}, `expires ${lot.expiry_date}`),
      el("span", { class: `badge status-${lot.status}` }, lot.status),
    ),
    el(
      "p",
      { class: "muted" },
      match.received.length
        ? `Received ${match.received.reduce((n, r) => n + r.quantity, 0)} in ${match.received.length} delivery(ies)`
        : "Never received (created from a scan)",
    ),
    el("h3", {}, "On the shelves"),
    match.stock.length
      ? el(
          "ul",
          { class: "inline" },
          match.stock.map((s) => el("li", {}, `${s.location.name}: `, el("strong", {}, s.on_hand))),
        )
      : el("p", { class: "muted" }, "None in stock."),
    el("h3", {}, `Clients (${new Set(clients.map((u) => u.client.id)).size})`),
    clients.length
      ? el(
          "div",
          { class: "scroll" },
          el(
            "table",
            { class: "data" },
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                ["Client", "E-mail", "Phone", "Used", "Where", "Qty", ""].map((h) => el("th", {}, h)),
              ),
            ),
            el(
              "tbody",
              {},
              clients.map((u) =>
                el(
                  "tr",
                  { class: u.voided ? "voided" : null },
                  el("td", {}, u.client.full_name),
                  el("td", {}, u.client.email || ""),
                  el("td", {}, u.client.phone || ""),
                  el("td", {}, dateTime(u.used_at)),
                  el("td", {}, u.location.name),
                  el("td", { class: "num" }, u.quantity),
                  el("td", {}, u.voided ? "voided" : ""),
                ),
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, "Not used on any client."),
  );
}

function selectedLots() {
  return [...document.querySelectorAll(".pick-lot:checked")].map((box) => Number(box.value));
}

function updateSelected() {
  const n = selectedLots().length;
  $("#selected-count").textContent = n ? `${n} lot(s) selected.` : "Tick the lots to recall.";
}

async function createRecall(event) {
  event.preventDefault();
  const error = $("#recall-error");
  const lotIds = selectedLots();
  const reason = $("#recall-reason").value.trim();
  show(error, false);
  if (!lotIds.length || !reason) {
    error.textContent = lotIds.length ? "Give the reason for the recall." : "Tick at least one lot.";
    show(error);
    return;
  }
  const body = { lot_ids: lotIds, reason };
  const source = $("#recall-source").value.trim();
  const reference = $("#recall-reference").value.trim();
  if (source) body.source = source;
  if (reference) body.reference = reference;
  // The same form sent twice (a double click, a retry) is one recall: same body, same key.
  const fingerprint = JSON.stringify(body);
  if (fingerprint !== recallState.lastBody) {
    recallState.lastBody = fingerprint;
    recallState.key = newKey();
  }
  const button = $("#recall-form button[type=submit]");
  button.disabled = true;
  try {
    const created = await api("POST", "/api/recalls", { body, key: recallState.key });
    recallState.lastBody = null;
    history.replaceState(null, "", `/ui/recall?case=${created.id}`);
    // The look-up is out of date now (the lots are recalled): the case below is what counts.
    show($("#trace"), false);
    $("#trace-results").replaceChildren();
    $("#recall-form").reset();
    renderCase(created);
  } catch (failure) {
    error.textContent = message(failure);
    show(error);
  } finally {
    button.disabled = false;
  }
}

async function loadCase(id) {
  try {
    renderCase(await api("GET", `/api/recalls/${id}`));
    pageError(null);
  } catch (error) {
    pageError(error);
  }
}

const CONTACT_STATES = [
  ["contacted", "Contacted"],
  ["acknowledged", "Acknowledged"],
  ["unreachable", "Unreachable"],
  ["to_contact", "To contact"],
];

function renderCase(c) {
  recallState.caseId = c.id;
  $("#case-title").textContent = `Recall #${c.id} · ${c.status}`;
  $("#case-meta").textContent = [
    c.reason,
    c.source ? `source: ${c.source}` : null,
    c.reference ? `ref. ${c.reference}` : null,
    `opened ${dateTime(c.created_at)} by ${c.created_by.email}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const r = c.report;
  $("#case-report").textContent =
    `${r.clients_affected} client(s) affected: ${r.clients_to_contact} to contact, ${r.clients_contacted} contacted, ` +
    `${r.clients_acknowledged} acknowledged, ${r.clients_unreachable} unreachable. ` +
    `Units quarantined ${r.units_quarantined}, on hand ${r.units_on_hand}, disposed ${r.units_disposed}.`;
  $("#case-lots").replaceChildren(
    ...c.lots.map((l) =>
      el(
        "tr",
        {},
        el("td", {}, `${l.brand} · ${l.product.name}`),
        el("td", { class: "mono" }, l.lot.lot_number),
        el("td", {}, l.lot.expiry_date),
        el("td", {}, el("span", { class: `badge status-${l.lot.status}` }, l.lot.status)),
        el("td", { class: "num" }, l.quarantined_units),
        el("td", { class: "num" }, l.on_hand),
        el("td", { class: "num" }, l.disposed_units),
      ),
    ),
  );
  $("#case-clients").replaceChildren(
    ...c.clients.map((entry) =>
      el(
        "tr",
        { "data-client": entry.client.id },
        el("td", {}, entry.client.full_name),
        el("td", {}, [entry.client.email, entry.client.phone].filter(Boolean).join(" · ")),
        el(
          "td",
          {},
          entry.usages.map((u) => el("div", {}, `${dateTime(u.used_at)}: ${u.product}, lot ${u.lot_number} × ${u.quantity}`)),
        ),
        el(
          "td",
          {},
          el("span", { class: `badge contact-${entry.contact_status}` }, entry.contact_status.replace("_", " ")),
          entry.updated_by ? el("small", {}, ` ${entry.updated_by.email}, ${dateTime(entry.updated_at)}`) : null,
        ),
        el(
          "td",
          {},
          el(
            "div",
            { class: "buttons" },
            CONTACT_STATES.filter(([state]) => state !== entry.contact_status).map(([state, label]) =>
              el(
                "button",
                {
                  type: "button",
                  class: "small",
                  "data-status": state,
                  onclick: () => setContact(c.id, entry.client.id, state),
                },
                label,
              ),
            ),
          ),
        ),
      ),
    ),
  );
  show($("#no-case-clients"), c.clients.length === 0);
  show($("#case"));
  $("#case").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function setContact(recallId, clientId, status) {
  try {
    await api("PATCH", `/api/recalls/${recallId}/clients/${clientId}`, { body: { contact_status: status } });
    await loadCase(recallId);
  } catch (error) {
    pageError(error);
  }
}

async function downloadCsv() {
  const id = recallState.caseId;
  if (!id) return;
  try {
    const blob = await api("GET", `/api/recalls/${id}/clients.csv`, { blob: true });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `recall-${id}-clients.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    pageError(error);
  }
}

// ------------------------------------------------------------------ start

const PAGES = { home: homePage, scan: scanPage, alerts: alertsPage, recall: recallPage };

header();
const start = PAGES[document.body.dataset.page];
if (start) Promise.resolve().then(start).catch((error) => pageError(error));
