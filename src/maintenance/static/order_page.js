// The work-order page: a cost line's form shows the fields of the chosen kind (labour: hours and
// rate; materials: planned, issued, used and returned; …). Fields of other kinds are hidden and
// disabled, so they are not submitted.
(function () {
  "use strict";

  function applyKind(form) {
    var select = form.querySelector("select[data-cost-kind]");
    if (!select) return;
    var kind = select.value;
    form.querySelectorAll("[data-kinds]").forEach(function (el) {
      var show = el.dataset.kinds.split(" ").indexOf(kind) >= 0;
      el.hidden = !show;
      el.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !show; });
    });
  }

  function init(root) {
    root.querySelectorAll("form[data-cost-form]").forEach(applyKind);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-cost-kind]")) applyKind(target.closest("form"));
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
