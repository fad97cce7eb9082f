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

  document.addEventListener("DOMContentLoaded", function () { initToasts(document); });
  document.addEventListener("htmx:afterSettle", function () { initToasts(document); });
  document.addEventListener("htmx:oobAfterSwap", function () { initToasts(document); });
})();
