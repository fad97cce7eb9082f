// Walking a round on a flaky network (templates/inspections/_round_stop.html). A stop's form is
// posted by htmx; when the request never reached the server (no signal, timeout) htmx leaves the
// form as it is, and this shows the engineer that nothing was sent so they tap Save again. The
// server makes a repeated submit of a stop that did arrive a no-op, so retrying is always safe.
(function () {
  "use strict";

  function notice(event) {
    var form = event.target.closest ? event.target.closest("form.stop-form") : null;
    if (!form) return;
    var message = form.querySelector(".send-error");
    if (message) message.hidden = false;
  }

  document.addEventListener("htmx:sendError", notice);
  document.addEventListener("htmx:timeout", notice);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest("form.stop-form") : null;
    var message = form ? form.querySelector(".send-error") : null;
    if (message) message.hidden = true;
  });
})();
