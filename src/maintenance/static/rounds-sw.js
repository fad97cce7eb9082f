// The rounds' service worker, served as /rounds/sw.js (scope "/": see round_routes.service_worker).
// It keeps what a round needs without signal: the app shell (our CSS/JS, the vendor files, the
// icon font), the rounds board and each round page visited or listed on the board, and the
// special-equipment banner of a round's assets. Network first: online, every page is fresh and
// the copy is refreshed; offline, the last copy is shown. Only GET responses of the logged-in
// user are kept (never a POST, never a redirect to the login page).
//
// The pages are one user's: they are kept in that user's cache (CACHE + "-user-" + id), and the
// worker knows whose session is open from the pages themselves (static/app.js sends every page's
// user and the time its session runs out; a page seen logged out, the login page, ends it and
// drops every user's copies). Offline, a page is served only from the open session's cache and
// only until that session would have expired, so the next person to pick up a shared phone never
// walks under someone else's name.
"use strict";

var CACHE = "maintenance-rounds-v2";
var SHELL_CACHE = CACHE + "-shell";
var SESSION_CACHE = CACHE + "-session";  // one entry: {user, until} of the open session
var SESSION_KEY = "/__rounds-session";
var SHELL = [
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
    caches.open(SHELL_CACHE).then(function (cache) {
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
        return name.indexOf("maintenance-rounds-") === 0 && name.indexOf(CACHE + "-") !== 0;
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

// --- Whose pages -------------------------------------------------------------------------------

function userCache(user) { return CACHE + "-user-" + user; }

function session() {
  return caches.open(SESSION_CACHE).then(function (cache) {
    return cache.match(SESSION_KEY).then(function (found) { return found ? found.json() : null; });
  }).then(function (open) {
    return open && open.user && Date.now() < open.until ? open : null;
  }, function () { return null; });
}

// A page says whose session is open ("" on a page seen logged out): other users' copies go. The
// same user's later pages only lengthen the session (a kept copy shown offline tells its own,
// older end).
function setSession(user, until) {
  return caches.open(SESSION_CACHE).then(function (cache) {
    return cache.match(SESSION_KEY).then(function (found) { return found ? found.json() : null; }).then(function (open) {
      if (open && user && open.user === user) until = Math.max(until, open.until || 0);
      var body = JSON.stringify({ user: user, until: until });
      return cache.put(SESSION_KEY, new Response(body, { headers: { "Content-Type": "application/json" } }));
    });
  }).then(function () {
    return caches.keys();
  }).then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(CACHE + "-user-") === 0 && name !== userCache(user);
    }).map(function (name) { return caches.delete(name); }));
  });
}

// Messages are handled one after the other: a page's "session" before the "keep" that follows it.
var queue = Promise.resolve();
function serial(action) {
  queue = queue.then(action, action);
  return queue;
}

// The cache a response may go in: static files in the shell's, a page in the open session's.
function cacheFor(path) {
  if (path.indexOf("/static/") === 0) return Promise.resolve(SHELL_CACHE);
  return session().then(function (open) { return open ? userCache(open.user) : null; });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!wanted(request)) return;  // the network as usual
  var path = new URL(request.url).pathname;
  event.respondWith(
    fetch(request).then(function (response) {
      if (keepable(response)) {
        var copy = response.clone();
        cacheFor(path).then(function (name) {
          if (name) return caches.open(name).then(function (cache) { return cache.put(request, copy); });
          return null;
        });
      }
      return response;
    }).catch(function () {
      return cacheFor(path).then(function (name) {
        if (!name) return Response.error();  // nobody's session is open: no one's pages
        return caches.open(name).then(function (cache) {
          return cache.match(request, { ignoreVary: true }).then(function (found) {
            return found || Response.error();
          });
        });
      });
    })
  );
});

function keep(urls) {
  return session().then(function (open) {
    if (!open) return null;
    return caches.open(userCache(open.user)).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        var path = new URL(url, self.location.origin).pathname;
        var fragment = FRAGMENT.test(path);
        if (!fragment && !PAGE.test(path)) return null;
        var request = new Request(url, { credentials: "same-origin", headers: fragment ? { "HX-Request": "true" } : {} });
        return fetch(request).then(function (response) {
          if (keepable(response)) return cache.put(request, response);
        }).catch(function () {});
      }));
    });
  });
}

// Every page says whose session is open ({type: "session", user, until}: static/app.js). A round
// page also asks for round pages to be kept (the board lists today's rounds) and for the banners
// of a round's assets (htmx fragments): {type: "keep", user, until, urls}; the answer on the
// message's port says they are kept.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "session" && data.type !== "keep") return;
  var port = event.ports && event.ports[0];
  event.waitUntil(serial(function () {
    return setSession(String(data.user || ""), Number(data.until) || 0).then(function () {
      if (data.type === "keep" && Array.isArray(data.urls)) return keep(data.urls);
      return null;
    });
  }).then(function () {
    if (port) port.postMessage("kept");
  }));
});
