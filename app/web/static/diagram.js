// The process diagram (bpmn-js viewer, served by the platform): steps taken and current steps marked.
(function () {
  "use strict";

  function ids(container, name) {
    try {
      return JSON.parse(container.getAttribute(name) || "[]");
    } catch (err) {
      return [];
    }
  }

  function draw(container) {
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        ids(container, "data-done").forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, "step-done");
        });
        ids(container, "data-current").forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, "step-current");
        });
        container.setAttribute("data-ready", "true");
      })
      .catch(function (err) {
        container.setAttribute("data-ready", "error");
        container.textContent = "流程图加载失败：" + err.message;
      });
  }

  document.querySelectorAll("[data-testid=bpmn-canvas]").forEach(draw);
})();
