// Scans kept on the device until the service has answered them. Each scan is written here before it is sent
// and removed only once the service has said "recorded" or "refused", so a network cut, a restart of the
// service, an ended sign-in or a reload of the page never loses one. IndexedDB survives reloads; where it is
// not available (a private window on some browsers) the scans are kept in memory and the page says so.

const DB_NAME = "meso-inventory";
const STORE = "pending-scans";

let opening = null;
const memory = new Map();
let durable = typeof indexedDB !== "undefined";

function database() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB is blocked"));
    });
  }
  return opening;
}

async function run(mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = action(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** Whether kept scans survive a reload (IndexedDB works here). */
export function isDurable() {
  return durable;
}

/** Keep a scan (by its Idempotency-Key) until the service has answered it. */
export async function keep(scan) {
  memory.set(scan.key, scan);
  if (!durable) return;
  try {
    await run("readwrite", (store) => store.put(scan));
  } catch {
    durable = false;
  }
}

/** Forget a scan the service has answered. */
export async function forget(key) {
  memory.delete(key);
  if (!durable) return;
  try {
    await run("readwrite", (store) => store.delete(key));
  } catch {
    durable = false;
  }
}

/** Every kept scan, oldest first. */
export async function pending() {
  let scans = [...memory.values()];
  if (durable) {
    try {
      const stored = await run("readonly", (store) => store.getAll());
      const byKey = new Map(stored.map((scan) => [scan.key, scan]));
      for (const scan of memory.values()) byKey.set(scan.key, scan);
      scans = [...byKey.values()];
    } catch {
      durable = false;
    }
  }
  return scans.sort((a, b) => a.createdAt - b.createdAt);
}
