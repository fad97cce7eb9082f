// Behaviour shared by every page. No inline scripts anywhere: the CSP allows only our own files.
(function () {
  "use strict";

  // Toasts arrive in an out-of-band #toasts block; hide the non-error ones after a while.
  function initToasts(root) {
    root.querySelectorAll(".toast").forEach(function (el) {
      if (el.dataset.initialised) return;
      el.dataset.initialised = "1";
      var autohide = el.dataset.autohide !== "false";
      var toast = bootstrap.Toast.getOrCreateInstance(el, { autohide: autohide, delay: 5000 });
      toast.show();
    });
  }

  // Plain (non-htmx) forms and buttons ask before destructive actions: data-confirm="…".
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.dataset.confirm || (event.submitter && event.submitter.dataset.confirm);
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Export links (data-export) show a spinner until the file starts to arrive: the export sets
  // the maintenance_export cookie on its response (a large XLSX takes a while to build).
  var EXPORT_COOKIE = "maintenance_export";
  function clearExportCookie() {
    document.cookie = EXPORT_COOKIE + "=; Max-Age=0; path=/; SameSite=Strict";
  }
  function exportStarted() {
    return document.cookie.split("; ").some(function (c) { return c.indexOf(EXPORT_COOKIE + "=") === 0; });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-export]") : null;
    if (!link || link.getAttribute("aria-busy") === "true") return;
    clearExportCookie();
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-1";
    spinner.setAttribute("aria-hidden", "true");
    link.prepend(spinner);
    link.setAttribute("aria-busy", "true");
    link.classList.add("disabled");
    var started = Date.now();
    var timer = window.setInterval(function () {
      if (!exportStarted() && Date.now() - started < 300000) return;
      window.clearInterval(timer);
      clearExportCookie();
      spinner.remove();
      link.removeAttribute("aria-busy");
      link.classList.remove("disabled");
    }, 500);
  });

  // The rounds' offline copies (static/rounds-sw.js) are one user's pages: gone at logout, and on
  // any page seen logged out (the login page), so the next user of the phone never sees them. Each
  // page tells the service worker whose session is open and until when (it shows no copy after).
  function dropOfflineCopies() {
    if (!window.caches) return Promise.resolve();
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("maintenance-rounds-") === 0; })
        .map(function (name) { return caches.delete(name); }));
    });
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form[action='/logout']")) dropOfflineCopies();
  });
  var user = document.body.dataset.userId || "";
  if (!user) dropOfflineCopies();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.getRegistration("/").then(function (registration) {
      if (!registration || !registration.active) return;
      var until = Number(document.body.dataset.sessionUntil) || 0;
      registration.active.postMessage({ type: "session", user: user, until: until });
    }).catch(function () {});
  }

  // Stops someone else left in the rounds' outbox (static/rounds.js) stay on the phone: each
  // entry names its user, whose pages alone show and send it (rounds.js filters by user), so
  // it syncs when that user logs in again. Deleting it would lose a reading never sent.

  document.addEventListener("DOMContentLoaded", function () { initToasts(document); });
  document.addEventListener("htmx:afterSettle", function () { initToasts(document); });
  document.addEventListener("htmx:oobAfterSwap", function () { initToasts(document); });
})();
