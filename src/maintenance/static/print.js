// Print buttons on the label sheet and the stocktake report (no inline scripts: CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action=print]");
    if (!button) return;
    event.preventDefault();
    window.print();
  });
})();
