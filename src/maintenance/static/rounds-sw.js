// The rounds' service worker, served as /rounds/sw.js (scope "/": see round_routes.service_worker).
// It keeps what a round needs without signal: the app shell (our CSS/JS, the vendor files, the
// icon font), the rounds board and each round page visited or listed on the board, and the
// special-equipment banner of a round's assets. Network first: online, every page is fresh and
// the copy is refreshed; offline, the last copy is shown. Only GET responses of the logged-in
// user are kept (never a POST, never a redirect to the login page), and the pages are dropped
// when anyone logs out (static/app.js deletes the cache on the login page).
"use strict";

var CACHE = "maintenance-rounds-v1";
var SHELL = [
  "/rounds",
  "/static/vendor/bootstrap/bootstrap.min.css",
  "/static/vendor/bootstrap-icons/bootstrap-icons.min.css",
  "/static/vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
  "/static/vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
  "/static/vendor/bootstrap/bootstrap.bundle.min.js",
  "/static/vendor/htmx/htmx.min.js",
  "/static/app.css",
  "/static/app.js",
  "/static/rounds.js",
  "/static/favicon.svg",
  "/static/manifest.webmanifest",
];

// What is kept: the board, a round page, a banner fragment and static files.
var PAGE = /^\/rounds(\/\d+)?$/;
var FRAGMENT = /^\/special-equipment\/\d+\/banner$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // One by one: a file missing must not stop the worker from installing.
      return Promise.all(SHELL.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (keepable(response)) return cache.put(url, response);
        }).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("maintenance-rounds-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keepable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

function wanted(request) {
  if (request.method !== "GET") return false;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.indexOf("/static/") === 0) return true;
  if (FRAGMENT.test(url.pathname)) return true;
  // Pages only: an htmx request for a page gets a fragment, which must not replace the page.
  return PAGE.test(url.pathname) && !request.headers.get("HX-Request");
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!wanted(request)) return;  // the network as usual
  event.respondWith(
    fetch(request).then(function (response) {
      if (keepable(response)) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(request, { ignoreVary: true }).then(function (found) {
          return found || Response.error();
        });
      });
    })
  );
});

// A page asks for round pages to be kept (the board lists today's rounds) and for the banners of
// a round's assets (htmx fragments); the answer on the message's port says they are kept.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  var port = event.ports && event.ports[0];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (url) {
      var path = new URL(url, self.location.origin).pathname;
      var fragment = FRAGMENT.test(path);
      if (!fragment && !PAGE.test(path)) return null;
      var request = new Request(url, { credentials: "same-origin", headers: fragment ? { "HX-Request": "true" } : {} });
      return fetch(request).then(function (response) {
        if (keepable(response)) return cache.put(request, response);
      }).catch(function () {});
    }));
  }).then(function () {
    if (port) port.postMessage("kept");
  }));
});
