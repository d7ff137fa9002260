// What every page shares: building elements, the bearer token, the API client, sign-in, the dialog. The pages
// hold no data: every data call goes to /api with the bearer token, which lives in sessionStorage only (gone
// when the tab closes). Text from the service is put into the page with textContent, never parsed as HTML.

export const TOKEN = "meso.token";
export const EMAIL = "meso.email";
export const CHAIR = "meso.chair";
export const KEYBOARD = "meso.keyboard";

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

export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
    throw new NetworkError("The service could not be reached.");
  }
  if (response.status === 401 && !path.startsWith("/api/auth/")) {
    if (onUnauthorized) onUnauthorized();
    else goSignIn();
    throw new ApiError(401, { code: "signed_out", detail: "Your sign-in has ended; sign in again." });
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
  if (path !== "/api/auth/refresh") keepSignedIn();
  if (blob) return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

/** Sign in: keep the token and the e-mail in this tab; throws ApiError (401: wrong e-mail or password). */
export async function signIn(email, password) {
  const result = await api("POST", "/api/auth/token", { body: { email, password } });
  sessionStorage.setItem(TOKEN, result.access_token);
  sessionStorage.setItem(EMAIL, email);
  return result;
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

/** A sentence for the user; a 403 says which role is needed and who is signed in. */
export function message(error) {
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

export function header() {
  const c = claims();
  const email = sessionStorage.getItem(EMAIL) || "";
  for (const node of document.querySelectorAll(".who")) node.textContent = c ? `${email} · ${c.role}` : "";
  for (const button of document.querySelectorAll(".signout")) button.addEventListener("click", signOut);
}

export async function signOut() {
  const value = token();
  try {
    if (value) await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${value}` } });
  } catch {
    // Signing out locally still happens; the token expires on its own.
  }
  sessionStorage.clear();
  location.assign("/ui/");
}

export function requireSignIn() {
  if (signedIn()) return true;
  goSignIn();
  return false;
}

/** Only go back to one of these pages after signing in (never to another site). */
export function safeNext(next) {
  return next && /^\/ui\/[a-z]*(\?[\w=&%-]*)?$/.test(next) ? next : null;
}

// ------------------------------------------------------------------ a question in a dialog

/** Ask for confirmation (and a reason when `reason` is set); resolves to the reason, "" or null (cancelled). */
export function ask({ title, text, reason = false, ok = "OK", danger = false }) {
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
