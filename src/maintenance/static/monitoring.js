// The measurement-point form (templates/monitoring/point_form.html): show the preset only for
// vibration and the API 570 fields only for wall thickness, follow the quantity's unit, and show
// (and fill in) the limits of the chosen ISO 10816-3 preset. Without JS every field is shown and
// the server applies the same rules.
(function () {
  "use strict";

  function init(form) {
    if (form.dataset.initialised) return;
    form.dataset.initialised = "1";
    var quantity = form.querySelector("#f-quantity");
    var unit = form.querySelector("#f-unit");
    var preset = form.querySelector("#f-preset");
    var warningHigh = form.querySelector("#f-warning_high");
    var alarmHigh = form.querySelector("#f-alarm_high");
    var unitsEl = document.getElementById("quantity-units");
    var units = {};
    try { units = JSON.parse(unitsEl ? unitsEl.dataset.units : "{}"); } catch (e) { units = {}; }
    var lastQuantity = quantity ? quantity.value : "";

    function showSections() {
      var value = quantity ? quantity.value : "";
      form.querySelectorAll("[data-show-for]").forEach(function (el) {
        el.hidden = el.dataset.showFor !== value;
      });
      if (preset && value !== "vibration") preset.value = "none";
    }

    function followUnit() {
      if (!quantity || !unit) return;
      var before = units[lastQuantity] || "";
      if (!unit.value || unit.value === before) unit.value = units[quantity.value] || "";
      lastQuantity = quantity.value;
    }

    function showPreset() {
      if (!preset) return;
      var chosen = null;
      form.querySelectorAll("[data-preset-limits]").forEach(function (el) {
        var match = el.dataset.presetLimits === preset.value;
        el.hidden = !match;
        if (match) chosen = el.querySelector("[data-warning-high]");
      });
      [warningHigh, alarmHigh].forEach(function (input) { if (input) input.readOnly = !!chosen; });
      if (chosen) {
        if (warningHigh) warningHigh.value = chosen.dataset.warningHigh;
        if (alarmHigh) alarmHigh.value = chosen.dataset.alarmHigh;
      }
    }

    if (quantity) quantity.addEventListener("change", function () { followUnit(); showSections(); showPreset(); });
    if (preset) preset.addEventListener("change", showPreset);
    showSections();
    showPreset();
  }

  function initAll() { document.querySelectorAll("form[data-point-form]").forEach(init); }
  document.addEventListener("htmx:afterSettle", initAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
