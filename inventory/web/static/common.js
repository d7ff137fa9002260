// What the pages' scripts share: building elements, translations, the bearer token, the API client, sign-in,
// the dialog. The page's sign-in is an HttpOnly cookie; scripts get a bearer token of the same sign-in from
// /ui/api-token and keep it in sessionStorage only (gone when the tab closes). Text from the service is put
// into the page with textContent, never parsed as HTML.

export const TOKEN = "meso.token";
export const EMAIL = "meso.email";
export const CHAIR = "meso.chair";
export const KEYBOARD = "meso.keyboard";

// ------------------------------------------------------------------ translations

let messages = null;

/** `text` in the page's language (the page embeds our scripts' catalog); {name} takes params.name. */
export function t(text, params = {}) {
  if (messages === null) {
    try {
      messages = JSON.parse(document.getElementById("script-messages")?.textContent || "{}");
    } catch {
      messages = {};
    }
  }
  const template = messages[text] || text;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The page's language as a BCP 47 tag for dates and numbers (the clinics' conventions: 1 Mar 2027). */
export function pageLocale() {
  return document.documentElement.lang === "fr" ? "fr-FR" : "en-GB";
}

// ------------------------------------------------------------------ small helpers

export const $ = (selector, root = document) => root.querySelector(selector);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Build an element; children are nodes or strings (always text, never HTML). */
export function el(tag, props = {}, ...children) {
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
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** A random v4 UUID; crypto.randomUUID only exists on https or localhost, a clinic LAN may be plain http. */
export function newKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Control characters made visible: the GS separator of GS1 codes shows as ‹GS›, others as ‹xx›. */
export function visible(raw) {
  return raw.replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === "\x1d" ? "‹GS›" : `‹${c.charCodeAt(0).toString(16).padStart(2, "0")}›`,
  );
}

/** A moment as date and time in the page's language, on `timeZone`'s clock when given (the location's). */
export function dateTime(iso, timeZone = undefined) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const style = { dateStyle: "medium", timeStyle: "short" };
  try {
    return d.toLocaleString(pageLocale(), { ...style, timeZone });
  } catch {
    return d.toLocaleString(pageLocale(), style); // a time zone this browser does not know
  }
}

/** A time of day in the page's language, on `timeZone`'s clock when given (the location's). */
export function time(iso, timeZone = undefined) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const style = { hour: "2-digit", minute: "2-digit" };
  try {
    return d.toLocaleTimeString(pageLocale(), { ...style, timeZone });
  } catch {
    return d.toLocaleTimeString(pageLocale(), style);
  }
}

/** A calendar date (YYYY-MM-DD, an expiry) in the page's one date format: 1 Mar 2027, 1 mars 2027. */
export function day(isoDate) {
  if (!isoDate) return "";
  const d = new Date(`${String(isoDate).slice(0, 10)}T00:00:00Z`);
  // The date as written, whatever the device's time zone: read and shown at UTC midnight.
  return Number.isNaN(d.getTime()) ? String(isoDate) : d.toLocaleDateString(pageLocale(), { dateStyle: "medium", timeZone: "UTC" });
}

/** A whole number with the page language's separators (and its minus sign: on hand can go below zero). */
export function number(value) {
  return value === null || value === undefined || value === "" ? "" : new Intl.NumberFormat(pageLocale()).format(Number(value));
}

/** Words joined as the page's language lists them: "A, B and C", "A, B et C". */
export function list(words) {
  const items = words.map(String);
  try {
    return new Intl.ListFormat(pageLocale(), { style: "long", type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}

export function decimal(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

export function productName(product) {
  return product.brand ? `${product.brand} · ${product.name}` : product.name;
}

// ------------------------------------------------------------------ the token and the API

export function token() {
  return sessionStorage.getItem(TOKEN);
}

/** The token's claims (role, exp) for display only; the service decides what a user may do. */
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

export function signedIn() {
  const c = claims();
  return Boolean(c && (!c.exp || c.exp * 1000 > Date.now()));
}

export function goSignIn() {
  sessionStorage.removeItem(TOKEN);
  location.assign(`/ui/?next=${encodeURIComponent(location.pathname + location.search)}`);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  get code() {
    return this.problem.code || "";
  }
}

export class NetworkError extends Error {}

let onUnauthorized = null;

/** Who handles a 401 (the sign-in ended): by default the page goes to sign-in; the chair signs in in place. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** Call the API with the bearer token; throws ApiError (problem details) or NetworkError. */
export async function api(method, path, { body, key, blob } = {}) {
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
    throw new NetworkError(t("The service could not be reached."));
  }
  if (response.status === 401 && !path.startsWith("/api/auth/")) {
    if (onUnauthorized) onUnauthorized();
    else goSignIn();
    throw new ApiError(401, { code: "signed_out", detail: t("Your sign-in has ended; sign in again.") });
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: t("The service answered {status}.", { status: response.status }) };
    }
    throw new ApiError(response.status, problem);
  }
  if (path !== "/api/auth/refresh") keepSignedIn();
  if (blob) return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

/** Sign in again from a script (the chair's dialog): renews the page's cookie and keeps a bearer token in this
 * tab; throws ApiError (401: wrong e-mail or password, 429: too many attempts) or NetworkError. */
export async function signIn(email, password) {
  let response;
  try {
    response = await fetch("/ui/sign-in", {
      method: "POST",
      headers: { "X-Meso-Script": "1", Accept: "application/json" },
      body: new URLSearchParams({ email, password }),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new NetworkError(t("The service could not be reached."));
  }
  const result = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, result);
  sessionStorage.setItem(TOKEN, result.access_token);
  sessionStorage.setItem(EMAIL, email);
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && result.csrf_token) meta.content = result.csrf_token;
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = result.csrf_token || "";
  return result;
}

/** A bearer token of the page's own sign-in (its cookie); true when one was obtained, false when the sign-in
 * has ended (401 or 403); throws NetworkError when the service cannot be reached. */
export async function tokenFromPage() {
  let response;
  try {
    response = await fetch("/ui/api-token", {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new NetworkError(t("The service could not be reached."));
  }
  if (!response.ok) return false;
  const result = await response.json();
  sessionStorage.setItem(TOKEN, result.access_token);
  sessionStorage.setItem(EMAIL, result.email);
  return true;
}

let refreshing = null;

// A clinic day is longer than one token: while the page is used, a token past half its life is swapped for a
// fresh one of the same sign-in, so nobody is asked to sign in again in the middle of a treatment.
function keepSignedIn() {
  const c = claims();
  if (refreshing || !c || !c.exp || !c.iat) return;
  const now = Date.now() / 1000;
  if (now < c.iat + (c.exp - c.iat) / 2 || now >= c.exp) return;
  refreshing = api("POST", "/api/auth/refresh")
    .then((result) => sessionStorage.setItem(TOKEN, result.access_token))
    .catch(() => {
      // The sign-in reached its longest life, or the service is away: the next 401 asks to sign in.
    })
    .finally(() => {
      refreshing = null;
    });
}

/** A role's name in the page's language (the same names as the pages' header). */
export function roleName(role) {
  return { staff: t("Staff"), manager: t("Manager"), admin: t("Administrator") }[role] || role;
}

// The service's refusals that may reach a page's script, in plain words in the page's language (the service's
// own sentence is English; it is the fallback for a code not listed here).
function refusalSentence(code) {
  switch (code) {
    case "forbidden":
      return t("Your role may not do this.");
    case "not_found":
      return t("This does not exist (any more).");
    case "session_closed":
      return t("This session is closed.");
    case "usage_voided":
      return t("This use is already voided.");
    case "too_many_attempts":
      return t("Too many attempts; wait a moment and try again.");
    case "idempotency_key_reused":
    case "idempotency_key_in_flight":
      return t("This was already sent; reload the page to see where it stands.");
    case "signed_out":
      return t("Your sign-in has ended; sign in again.");
    default:
      return null;
  }
}

/** A sentence for the user in the page's language; a 403 says which role is needed and who is signed in. */
export function message(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      const role = error.problem.required_role;
      const needs = role ? t("This needs the {role} role.", { role: roleName(role) }) : t("Your role may not do this.");
      const c = claims();
      const email = sessionStorage.getItem(EMAIL);
      if (!c || !email) return needs;
      return [needs, t("You are signed in as {email} ({role}).", { email, role: roleName(c.role) })].join(" ");
    }
    if (error.status >= 500) return t("The service is busy or restarting; try again in a moment.");
    return refusalSentence(error.code) || error.problem.detail || error.message;
  }
  if (error instanceof NetworkError) return t("The service could not be reached. Check the connection and try again.");
  return String((error && error.message) || error);
}

export function pageError(error) {
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

/** The page's sign-out form (server-side) also forgets this tab's bearer token. */
export function header() {
  for (const form of document.querySelectorAll(".signout-form")) {
    form.addEventListener("submit", () => sessionStorage.removeItem(TOKEN));
  }
}

// ------------------------------------------------------------------ a question in a dialog

/** Ask for confirmation (and a reason when `reason` is set); resolves to the reason, "" or null (cancelled).
 * `ok` and `cancel` name the two buttons (by default the page's own "OK" and "Cancel"). */
export function ask({ title, text, reason = false, ok = null, cancel = null, danger = false }) {
  const dialog = $("#ask");
  const input = $("#ask-reason");
  $("#ask-title").textContent = title;
  $("#ask-text").textContent = text || "";
  show($("#ask-reason-label"), reason);
  show(input, reason);
  input.value = "";
  input.required = reason;
  const okButton = $("#ask-ok");
  const cancelButton = $("#ask-cancel");
  // The template's labels are already in the page's language: keep them as the defaults.
  okButton.dataset.label ??= okButton.textContent;
  cancelButton.dataset.label ??= cancelButton.textContent;
  okButton.textContent = ok || okButton.dataset.label;
  cancelButton.textContent = cancel || cancelButton.dataset.label;
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
