// 电子监察 charts (Apache ECharts, served by the platform): volumes and on-time rate by month and department.
(function () {
  "use strict";
  var holder = document.querySelector("[data-testid=charts]");
  if (!holder || !window.echarts) return;
  var data = JSON.parse(holder.getAttribute("data-charts") || "{}");

  function draw(id, rows, title) {
    var el = document.getElementById(id);
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      title: { text: title, left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 0, right: 0, data: ["受理", "办结", "超期", "按时办结率"] },
      grid: { top: 56, left: 48, right: 56, bottom: 32 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }) },
      yAxis: [
        { type: "value", name: "件" },
        { type: "value", name: "%", min: 0, max: 100 }
      ],
      series: [
        { name: "受理", type: "bar", data: rows.map(function (r) { return r.accepted; }) },
        { name: "办结", type: "bar", data: rows.map(function (r) { return r.completed; }) },
        { name: "超期", type: "bar", data: rows.map(function (r) { return r.overdue; }) },
        {
          name: "按时办结率", type: "line", yAxisIndex: 1,
          data: rows.map(function (r) { return r.on_time_rate === null ? null : Math.round(r.on_time_rate * 1000) / 10; })
        }
      ]
    });
    el.setAttribute("data-ready", "true");
  }

  draw("chart-months", data.months || [], "按月：办件量与按时办结率");
  draw("chart-departments", data.departments || [], "按部门：办件量与按时办结率");
})();
