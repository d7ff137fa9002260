// The chair's service worker: keeps the scan station's own files so that a reload works while the network or
// the service is down (the scans themselves wait in IndexedDB, see queue.js). Network first, so a new version
// of the station is used as soon as it is reachable; /api is never cached.
//
// /ui/scan is rendered by the service for the signed-in user, in their language, with the scripts' translations
// embedded: the copy kept is the last one the service rendered for this browser. Only a page really served at its
// own address is kept, never the sign-in form a signed-out request is sent to.

// A new name whenever the shell changes: the old copies are dropped on activation.
const CACHE = "meso-chair-v2";
const SHELL = [
  "/ui/scan",
  "/ui/scan.js",
  "/ui/common.js",
  "/ui/burst.js",
  "/ui/queue.js",
  "/ui/camera.js",
  "/ui/app.css",
];

/** Whether a response is the file itself (not an error, nor a redirect to sign-in followed on the way). */
function keepable(response) {
  return response.ok && !response.redirected && response.type === "basic";
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        Promise.all(
          SHELL.map((path) =>
            fetch(path, { credentials: "same-origin", cache: "no-store" })
              .then((response) => (keepable(response) ? cache.put(path, response) : undefined))
              .catch(() => undefined),
          ),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/ui/")) return;
  if (url.pathname.startsWith("/ui/vendor/")) {
    // The decoder is large and never changes under the same name: cache first.
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) caches.open(CACHE).then((cache) => cache.put(request, response.clone()));
            return response;
          }),
      ),
    );
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (keepable(response) && SHELL.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(url.pathname).then((hit) => hit || Response.error()),
      ),
  );
});
