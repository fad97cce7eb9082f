// Gantt chart of a turnaround's scope: an ECharts custom series drawing, per order row, its
// planned bar (light, outlined) and its actual bar (solid), coloured by order type; revamp
// tie-ins carry a ◆; a line marks today and a shaded band the turnaround's own dates.
//
// Markup (no inline script, strict CSP): a container <div data-gantt="ID"> and a data block
// <script type="application/json" id="ID">{"rows": [...], "start": ..., "end": ..., "labels": {...}}</script>
// as rendered by templates/orders/turnarounds/detail.html (rows from turnarounds.service.gantt_rows).
// Other schedules (the key projects') give each row its own "label" and tooltip "lines", and
// may add "marks" ([{"date": ISO, "done": bool}]: ◆ filled when done, hollow when forecast)
// and the data block a "today" (ISO) for the line instead of the browser's clock.
// With hundreds of rows the chart shows a window of them and scrolls (wheel or the slider on
// the right); Ctrl + wheel or the bottom slider zooms the time axis.
(function () {
  "use strict";

  var DAY = 86400000;
  var ROW_HEIGHT = 26; // px per order row
  var VISIBLE_ROWS = 25; // rows shown at once; the slider on the right scrolls through the rest
  var CHROME = 96; // px for the time axis, the bottom slider and margins
  var FALLBACK = {
    primary: "#0d6efd", secondary: "#6c757d", success: "#198754", danger: "#dc3545",
    warning: "#ffc107", info: "#0dcaf0", dark: "#212529", light: "#adb5bd", purple: "#6f42c1",
    "border-color": "#dee2e6", "body-color": "#212529", "secondary-color": "#6c757d"
  };
  var charts = [];

  function cssColour(name) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue("--bs-" + name).trim();
    return value || FALLBACK[name] || FALLBACK.secondary;
  }

  // Local midnight of an ISO date (YYYY-MM-DD): bars start at the beginning of their first day.
  function day(iso) {
    var parts = iso.split("-");
    return new Date(+parts[0], +parts[1] - 1, +parts[2]).getTime();
  }

  function encode(text) {
    return echarts.format.encodeHTML(text == null ? "" : String(text));
  }

  function label(row) {
    // Axis labels are ECharts rich text: braces in user data would be read as markup.
    var text = (row.label != null ? row.label : row.number + " " + row.asset_tag).replace(/[{}|]/g, "");
    return row.tie_in ? "{tie|◆} " + text : text;
  }

  function tooltip(rows, labels) {
    return function (params) {
      var row = rows[params.value[0]];
      if (!row) return "";
      if (row.lines) return row.lines.map(encode).join("<br>");
      var lines = [
        "<strong>" + encode(row.number) + "</strong> " + encode(row.title),
        encode(row.type_label) + " · " + encode(row.state_label) + (row.tie_in ? " · ◆ " + encode(labels.tie_in) : ""),
        encode(labels.asset) + ": " + encode(row.asset_tag) + " · " + encode(labels.workshop) + ": " + encode(row.workshop),
        encode(labels.planned) + ": " + encode(row.planned_start) + " – " + encode(row.planned_finish)
      ];
      if (row.actual_start) {
        lines.push(
          encode(labels.actual) + ": " + encode(row.actual_start) + " – " +
          (row.actual_open ? "… (" + encode(labels.in_progress) + ")" : encode(row.actual_finish))
        );
      }
      return lines.join("<br>");
    };
  }

  function bar(api, start, end, top, height, clip) {
    var x0 = api.coord([start, 0])[0];
    var x1 = api.coord([end, 0])[0];
    return echarts.graphic.clipRectByRect({ x: x0, y: top, width: Math.max(x1 - x0, 2), height: height }, clip);
  }

  function renderer(rows, colours) {
    return function (params, api) {
      var index = api.value(0);
      var row = rows[index];
      var centre = api.coord([api.value(1), index]);
      var band = api.size([0, 1])[1];
      var height = Math.max(3, Math.min(9, band * 0.32));
      var clip = {
        x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height
      };
      var colour = colours[row.colour] || colours.secondary;
      var children = [];
      var planned = bar(api, api.value(1), api.value(2), centre[1] - height - 1, height, clip);
      if (planned) {
        children.push({
          type: "rect", shape: planned,
          style: { fill: echarts.color.modifyAlpha(colour, 0.3), stroke: colour, lineWidth: 1 }
        });
      }
      if (row.actual_start) {
        var actual = bar(api, api.value(3), api.value(4), centre[1] + 1, height, clip);
        if (actual) {
          children.push({
            type: "rect", shape: actual,
            style: row.actual_open
              ? { fill: echarts.color.modifyAlpha(colour, 0.7), stroke: colour, lineWidth: 1, lineDash: [3, 2] }
              : { fill: colour }
          });
        }
      }
      (row.marks || []).forEach(function (mark) {
        var x = api.coord([day(mark.date) + DAY / 2, index])[0];
        if (x < clip.x || x > clip.x + clip.width) return;
        var y = centre[1];
        children.push({
          type: "polygon",
          shape: { points: [[x, y - 6], [x + 6, y], [x, y + 6], [x - 6, y]] },
          style: mark.done ? { fill: colour, stroke: colours["body-color"], lineWidth: 1 }
            : { fill: "#fff", stroke: colour, lineWidth: 1.5 }
        });
      });
      if (row.tie_in && centre[0] - 8 >= clip.x) {
        var x = centre[0] - 8;
        var y = centre[1];
        children.push({
          type: "polygon",
          shape: { points: [[x, y - 5], [x + 5, y], [x, y + 5], [x - 5, y]] },
          style: { fill: colours.purple }
        });
      }
      return { type: "group", children: children };
    };
  }

  function option(data, colours) {
    var rows = data.rows;
    var labels = data.labels || {};
    var start = day(data.start);
    var end = day(data.end) + DAY;
    var items = rows.map(function (row, index) {
      var plannedStart = day(row.planned_start);
      var plannedEnd = day(row.planned_finish) + DAY;
      // Rows without an actual bar repeat the planned start so that every value is a number
      // (the x dataZoom filters on all four); renderItem draws no actual bar for them.
      var actualStart = row.actual_start ? day(row.actual_start) : plannedStart;
      var actualEnd = row.actual_finish ? day(row.actual_finish) + DAY : plannedStart;
      start = Math.min(start, plannedStart, actualStart);
      end = Math.max(end, plannedEnd, actualEnd);
      return { value: [index, plannedStart, plannedEnd, actualStart, actualEnd] };
    });
    var scrolling = rows.length > VISIBLE_ROWS;
    var zoom = [
      { type: "slider", xAxisIndex: 0, bottom: 6, height: 16, filterMode: "weakFilter", showDetail: false },
      {
        type: "inside", xAxisIndex: 0, filterMode: "weakFilter",
        zoomOnMouseWheel: "ctrl", moveOnMouseWheel: false, moveOnMouseMove: true
      }
    ];
    if (scrolling) {
      zoom.push(
        {
          type: "slider", yAxisIndex: 0, right: 6, width: 14, startValue: 0, endValue: VISIBLE_ROWS - 1,
          zoomLock: true, showDetail: false, showDataShadow: false, brushSelect: false
        },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true, moveOnMouseMove: false }
      );
    }
    return {
      animation: false,
      grid: { left: 8, right: scrolling ? 34 : 16, top: 8, bottom: 52, containLabel: true },
      tooltip: { trigger: "item", confine: true, formatter: tooltip(rows, labels) },
      xAxis: {
        type: "time", min: start - DAY, max: end + DAY, position: "top",
        axisLabel: { hideOverlap: true },
        splitLine: { show: true, lineStyle: { color: colours["border-color"], opacity: 0.6 } }
      },
      yAxis: {
        type: "category", inverse: true,
        data: rows.map(function (row, index) { return String(index); }),
        axisTick: { show: false },
        axisLabel: {
          fontFamily: "monospace", fontSize: 11,
          formatter: function (value) { return label(rows[+value]); },
          rich: { tie: { color: colours.purple } }
        },
        splitLine: { show: true, lineStyle: { color: colours["border-color"], opacity: 0.4 } }
      },
      dataZoom: zoom,
      series: [{
        type: "custom",
        renderItem: renderer(rows, colours),
        encode: { x: [1, 2, 3, 4], y: 0 },
        data: items,
        clip: true,
        markArea: {
          silent: true,
          itemStyle: { color: colours.warning, opacity: 0.08 },
          label: { show: false },
          data: [[{ name: labels.window || "", xAxis: day(data.start) }, { xAxis: day(data.end) + DAY }]]
        },
        markLine: {
          silent: true, symbol: ["none", "none"],
          lineStyle: { color: colours.danger, type: "solid", width: 1.5 },
          label: { formatter: labels.today || "", position: "insideEndTop", color: colours.danger },
          data: [{ xAxis: data.today ? day(data.today) + DAY / 2 : Date.now() }]
        }
      }]
    };
  }

  function init(container) {
    if (container.dataset.ganttReady || typeof echarts === "undefined") return;
    var block = document.getElementById(container.dataset.gantt);
    if (!block) return;
    var data = JSON.parse(block.textContent);
    if (!data.rows || !data.rows.length) return;
    container.dataset.ganttReady = "1";
    var shown = Math.min(data.rows.length, VISIBLE_ROWS);
    container.style.height = (shown * ROW_HEIGHT + CHROME) + "px";
    var colours = {};
    Object.keys(FALLBACK).forEach(function (name) { colours[name] = cssColour(name); });
    var chart = echarts.init(container);
    chart.setOption(option(data, colours));
    chart.on("click", function (params) {
      var row = params.componentType === "series" ? data.rows[params.value[0]] : null;
      if (row && row.url) window.location.assign(row.url);
    });
    charts.push(chart);
  }

  function initAll() {
    document.querySelectorAll("[data-gantt]").forEach(init);
  }

  document.addEventListener("DOMContentLoaded", initAll);
  document.addEventListener("htmx:afterSettle", initAll);
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { if (!chart.isDisposed()) chart.resize(); });
  });
})();
