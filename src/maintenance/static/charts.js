// Generic ECharts initialiser for any page (work-order KPIs, monitoring trends, …).
//
// Markup (templates/_macros/charts.html writes it: {{ chart("mix-count", option, label) }}):
//
//   <div data-chart="mix-count" data-chart-height="320px" role="img" aria-label="…"></div>
//   <template id="mix-count" data-chart-option>{{ option|tojson }}</template>
//
// data-chart names the id of the element holding the ECharts option as JSON (built server-side):
// a <template> (its content's text), or a <script type="application/json"> block. Use <template>
// in anything htmx may swap in: this app runs htmx with allowScriptTags=false, which removes every
// <script> element from swapped content, JSON blocks included. Neither is executed, so the strict
// CSP ('self' only, no inline script) holds. data-chart-height sets the element's height when
// CSS gives it none (default 320px).
//
// Load it after ECharts in the page's head_scripts block:
//
//   <script src="/static/vendor/echarts/echarts.min.js" defer></script>
//   <script src="/static/charts.js" defer></script>
//
// Charts are drawn on load and after every htmx swap (htmx:afterSettle), redrawn when their JSON
// changed, follow window resizes, are resized when a Bootstrap tab or collapse shows them (a chart
// drawn while hidden has no width), and are disposed when htmx removes their element.
// window.maintenanceCharts.init(root) / .resize() are there for pages that insert charts otherwise.
(function () {
  "use strict";

  var charts = [];

  function readOption(el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source) return null;
    var text = source.tagName === "TEMPLATE" ? source.content.textContent : source.textContent;
    try {
      return { text: text, option: JSON.parse(text) };
    } catch (error) {
      if (window.console) window.console.error("charts.js: bad JSON in #" + el.dataset.chart, error);
      return null;
    }
  }

  function disposeDetached() {
    charts = charts.filter(function (entry) {
      if (document.body.contains(entry.el)) return true;
      entry.chart.dispose();
      return false;
    });
  }

  function initCharts(root) {
    if (typeof window.echarts === "undefined") return;
    disposeDetached();
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var data = readOption(el);
      if (!data) return;
      if (!el.clientHeight) el.style.height = el.dataset.chartHeight || "320px";
      var entry = charts.find(function (e) { return e.el === el; });
      if (entry && entry.text === data.text) return; // drawn already with the same data
      if (!entry) {
        entry = { el: el, chart: window.echarts.init(el, null, { renderer: "canvas" }) };
        charts.push(entry);
      }
      entry.text = data.text;
      var chart = entry.chart;
      chart.setOption(data.option, true);
    });
  }

  function resizeAll() {
    charts.forEach(function (entry) { entry.chart.resize(); });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(resizeAll, 100);
  });
  document.addEventListener("shown.bs.tab", resizeAll);
  document.addEventListener("shown.bs.collapse", resizeAll);
  document.addEventListener("htmx:afterSettle", function () { initCharts(document); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  } else {
    initCharts(document);
  }

  window.maintenanceCharts = { init: initCharts, resize: resizeAll };
})();
