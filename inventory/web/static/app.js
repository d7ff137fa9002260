// meso-inventory pages other than the chair (which has scan.js): the menu and sign-in, alerts, recall.
// Every data call goes to /api with the bearer token; text from the service is always text, never HTML.

import {
  $,
  api,
  dateTime,
  decimal,
  el,
  header,
  ApiError,
  claims,
  safeNext,
  signedIn,
  signIn,
  message,
  newKey,
  pageError,
  productName,
  requireSignIn,
  show,
  time,
} from "./common.js";

// ------------------------------------------------------------------ the menu and sign-in

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
      await signIn(email, password);
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
  // An alert the nightly re-evaluation has not stored yet is computed on read: nothing to acknowledge yet.
  const ack = a.id === null || a.id === undefined
    ? el("span", { class: "badge" }, "New today")
    : a.acknowledged
    ? el(
        "div",
        { class: "acked" },
        el("span", { class: "badge status-active" }, "Acknowledged"),
        el("small", {}, [a.acknowledged_by && a.acknowledged_by.email ? `by ${a.acknowledged_by.email}` : "", dateTime(a.acknowledged_at)].join(" ")),
      )
    : el("button", { type: "button", class: "small", onclick: (event) => acknowledge(a, event.target) }, "Acknowledge");
  return el(
    "tr",
    { "data-alert": a.id ?? "" },
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

const PAGES = { home: homePage, alerts: alertsPage, recall: recallPage };

header();
const start = PAGES[document.body.dataset.page];
if (start) Promise.resolve().then(start).catch((error) => pageError(error));
