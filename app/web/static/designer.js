// The designer's page: the bpmn-js Modeler (served by the platform), a small properties panel for
// what the platform reads, save as draft with the report marked on the canvas, and the dry run.
(function () {
  "use strict";

  var container = document.getElementById("modeler");
  if (!container) return;
  var csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  var groups = JSON.parse(container.getAttribute("data-groups") || "[]");
  var panel = document.getElementById("properties");
  var TYPES = ["string", "text", "boolean", "long", "date", "enum", "materials"];
  var TYPE_LABELS = { string: "单行文本", text: "多行文本", boolean: "是/否", long: "整数", date: "日期", enum: "选项", materials: "容缺材料" };
  var PROPS = {
    "bpmn:UserTask": [["time_limit", "环节时限（工作日）"], ["special_procedure", "特别程序（是则填 true）"], ["completes_case", "办结结果（approved/rejected）"]],
    "bpmn:EndEvent": [["result", "办结结果（approved/rejected/...）"]]
  };
  var modeler;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function json(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  // ---------------------------------------------------------------- extension elements
  function extension(bo, type, create) {
    var moddle = modeler.get("moddle");
    if (!bo.extensionElements && !create) return null;
    bo.extensionElements = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
    bo.extensionElements.$parent = bo;
    var values = bo.extensionElements.get("values");
    var found = values.filter(function (v) { return v.$type === type; })[0];
    if (!found && create) {
      found = moddle.create(type, {});
      found.$parent = bo.extensionElements;
      values.push(found);
    }
    return found || null;
  }

  function property(bo, name) {
    var props = extension(bo, "spiffworkflow:Properties", false);
    var p = props && (props.get("properties") || []).filter(function (x) { return x.name === name; })[0];
    return p ? p.value : "";
  }

  function setProperty(element, name, value) {
    var bo = element.businessObject;
    var props = extension(bo, "spiffworkflow:Properties", true);
    var list = props.get("properties");
    var p = list.filter(function (x) { return x.name === name; })[0];
    if (!value) {
      if (p) list.splice(list.indexOf(p), 1);
    } else if (p) {
      p.value = value;
    } else {
      list.push(modeler.get("moddle").create("spiffworkflow:Property", { name: name, value: value }));
    }
    modeler.get("modeling").updateProperties(element, { extensionElements: bo.extensionElements });
  }

  // ---------------------------------------------------------------- form fields (camunda:formData)
  function formFields(bo, create) {
    var form = extension(bo, "camunda:FormData", create);
    return form ? form.get("fields") : [];
  }

  function required(field) {
    var v = field.validation;
    return !!(v && v.get("constraints").some(function (c) { return c.name === "required"; }));
  }

  function setRequired(field, on) {
    var moddle = modeler.get("moddle");
    field.validation = field.validation || moddle.create("camunda:Validation", { constraints: [] });
    var list = field.validation.get("constraints");
    var c = list.filter(function (x) { return x.name === "required"; })[0];
    if (on && !c) list.push(moddle.create("camunda:Constraint", { name: "required" }));
    if (!on && c) list.splice(list.indexOf(c), 1);
  }

  function addField(element, id, label, type, isRequired) {
    var field = modeler.get("moddle").create("camunda:FormField", { id: id, label: label, type: type || "string" });
    if (isRequired) setRequired(field, true);
    formFields(element.businessObject, true).push(field);
    modeler.get("modeling").updateProperties(element, { extensionElements: element.businessObject.extensionElements });
    return field;
  }

  function touched(element) {
    modeler.get("modeling").updateProperties(element, { extensionElements: element.businessObject.extensionElements });
  }

  function fieldRow(element, field, index) {
    var row = el("tr", { "data-testid": "form-field", "data-field": field.id || "" });
    var id = el("input", { value: field.id || "", "aria-label": "字段标识", size: "10" });
    id.addEventListener("change", function () { field.id = id.value.trim(); touched(element); });
    var label = el("input", { value: field.label || "", "aria-label": "字段名称", size: "10" });
    label.addEventListener("change", function () { field.label = label.value.trim(); touched(element); });
    var type = el("select", { "aria-label": "字段类型" });
    TYPES.forEach(function (t) {
      var o = el("option", { value: t }, TYPE_LABELS[t]);
      if ((field.type || "string") === t) o.selected = true;
      type.appendChild(o);
    });
    type.addEventListener("change", function () { field.type = type.value; touched(element); });
    var req = el("input", { type: "checkbox", "aria-label": "必填" });
    req.checked = required(field);
    req.addEventListener("change", function () { setRequired(field, req.checked); touched(element); });
    var remove = el("button", { type: "button", class: "link" }, "删除");
    remove.addEventListener("click", function () {
      var list = formFields(element.businessObject, false);
      list.splice(index, 1);
      touched(element);
      render(element);
    });
    [id, label, type, req, remove].forEach(function (input) { var td = el("td"); td.appendChild(input); row.appendChild(td); });
    return row;
  }

  function formEditor(element) {
    var box = el("fieldset", { class: "form-editor" });
    box.appendChild(el("legend", {}, "表单字段（camunda:formData）"));
    var table = el("table", { class: "list compact" });
    var head = el("tr");
    ["标识", "名称", "类型", "必填", ""].forEach(function (h) { head.appendChild(el("th", {}, h)); });
    table.appendChild(head);
    formFields(element.businessObject, false).forEach(function (f, i) { table.appendChild(fieldRow(element, f, i)); });
    box.appendChild(table);
    var add = el("button", { type: "button", "data-testid": "add-field" }, "添加字段");
    add.addEventListener("click", function () {
      var n = formFields(element.businessObject, false).length + 1;
      addField(element, "field_" + n, "新字段" + n, "string", false);
      render(element);
    });
    box.appendChild(add);
    return box;
  }

  // ---------------------------------------------------------------- the properties panel
  function labelled(text, input) {
    var label = el("label", {}, text + " ");
    label.appendChild(input);
    return label;
  }

  function render(element) {
    panel.innerHTML = "";
    panel.appendChild(el("h2", {}, "属性"));
    if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration") {
      panel.appendChild(el("p", { class: "muted" }, "在图上选择一个元素。"));
      return;
    }
    var bo = element.businessObject;
    panel.setAttribute("data-element", bo.id);
    panel.appendChild(el("p", {}, element.type.replace("bpmn:", "") + " · " + bo.id));
    if (element.type === "bpmn:Lane") {
      var select = el("select", { name: "lane_group" });
      select.appendChild(el("option", { value: "" }, "— 选择岗位组 —"));
      groups.forEach(function (g) {
        var o = el("option", { value: g }, g);
        if (bo.name === g) o.selected = true;
        select.appendChild(o);
      });
      select.addEventListener("change", function () { modeler.get("modeling").updateProperties(element, { name: select.value }); });
      panel.appendChild(labelled("泳道岗位组", select));
      return;
    }
    var name = el("input", { value: bo.name || "", name: "element_name" });
    name.addEventListener("change", function () { modeler.get("modeling").updateProperties(element, { name: name.value }); });
    panel.appendChild(labelled("名称", name));
    (PROPS[element.type] || []).forEach(function (pair) {
      var input = el("input", { value: property(bo, pair[0]), name: pair[0] });
      input.addEventListener("change", function () { setProperty(element, pair[0], input.value.trim()); });
      panel.appendChild(labelled(pair[1], input));
    });
    if (element.type === "bpmn:SequenceFlow") {
      var cond = bo.conditionExpression ? bo.conditionExpression.body : "";
      var text = el("textarea", { name: "condition", rows: "2" });
      text.value = cond || "";
      text.addEventListener("change", function () {
        var expr = text.value.trim() ? modeler.get("moddle").create("bpmn:FormalExpression", { body: text.value.trim() }) : undefined;
        modeler.get("modeling").updateProperties(element, { conditionExpression: expr });
      });
      panel.appendChild(labelled("条件（安全表达式）", text));
    }
    if (element.type === "bpmn:UserTask") panel.appendChild(formEditor(element));
  }

  // ---------------------------------------------------------------- report, save, dry run
  function select(id) {
    var shape = modeler.get("elementRegistry").get(id);
    if (!shape) return;
    modeler.get("selection").select(shape);
    modeler.get("canvas").scrollToElement(shape);
  }

  function showReport(items, summary) {
    var list = document.getElementById("report");
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    registry.getAll().forEach(function (s) { canvas.removeMarker(s.id, "report-error"); canvas.removeMarker(s.id, "report-warning"); });
    list.innerHTML = "";
    document.getElementById("report-summary").textContent = summary;
    items.forEach(function (item) {
      var li = el("li", { "data-testid": "report-item", "data-element": item.element || "", class: "sev-" + item.severity, tabindex: "0" });
      li.textContent = (item.severity === "error" ? "错误 " : "提示 ") + (item.element ? item.element + " " : "") +
        (item.line ? "第 " + item.line + " 行" : "") + "：" + item.message;
      if (item.element) {
        if (registry.get(item.element)) canvas.addMarker(item.element, "report-" + item.severity);
        li.addEventListener("click", function () { select(item.element); });
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") select(item.element); });
      }
      list.appendChild(li);
    });
  }

  function save() {
    return modeler.saveXML({ format: true }).then(function (out) {
      return fetch(container.getAttribute("data-save-url"), {
        method: "POST", credentials: "same-origin", body: out.xml,
        headers: { "Content-Type": "application/xml", "X-CSRFToken": csrf }
      });
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (b) {
      var summary = b.saved
        ? "已保存为草稿 v" + b.version + "（" + b.report.length + " 条提示）"
        : "未保存：" + b.detail;
      showReport(b.report || [], summary);
      container.setAttribute("data-saved", b.saved ? String(b.version) : "error");
      if (b.saved) {
        var link = el("a", { href: b.url, "data-testid": "draft-link" }, " 打开 v" + b.version);
        document.getElementById("report-summary").appendChild(link);
      }
    });
  }

  function simulate() {
    var out = document.getElementById("simulate-result");
    var scenario;
    try {
      scenario = JSON.parse(document.getElementById("scenario").value || "{}");
    } catch (err) {
      out.textContent = "场景不是有效的 JSON：" + err.message;
      return Promise.resolve();
    }
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    registry.getAll().forEach(function (s) { canvas.removeMarker(s.id, "sim-path"); canvas.removeMarker(s.id, "sim-stop"); });
    return fetch(container.getAttribute("data-simulate-url"), {
      method: "POST", credentials: "same-origin", body: JSON.stringify(scenario),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }
    }).then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (b) {
        var answer = { ok: b.ok };
        (b.path || []).forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "sim-path"); });
        if (!answer.ok && b.element && registry.get(b.element)) canvas.addMarker(b.element, "sim-stop");
        out.textContent = answer.ok
          ? "试运行完成：经过 " + b.path.length + " 个元素，结束于 " + b.end + (b.result ? "（" + b.result + "）" : "")
          : "试运行停止：" + b.detail;
        container.setAttribute("data-simulated", answer.ok ? "true" : "error");
        out.setAttribute("data-path", JSON.stringify(b.path || []));
      });
  }

  function start(extensions) {
    modeler = new window.BpmnJS({ container: container, moddleExtensions: extensions });
    window.onewindowModeler = modeler; // the page's own handle (browser tests change the diagram through it)
    fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        modeler.get("canvas").zoom("fit-viewport");
        modeler.get("eventBus").on("selection.changed", function (e) { render(e.newSelection[0]); });
        document.querySelectorAll("#report [data-testid=report-item]").forEach(function (li) {
          var id = li.getAttribute("data-element");
          if (id) li.addEventListener("click", function () { select(id); });
        });
        container.setAttribute("data-ready", "true");
      })
      .catch(function (err) {
        container.setAttribute("data-ready", "error");
        container.textContent = "流程图加载失败：" + err.message;
      });
  }

  window.onewindowDesigner = { addField: addField, setProperty: setProperty, save: save, simulate: simulate };
  document.getElementById("save-draft").addEventListener("click", save);
  document.getElementById("simulate").addEventListener("click", simulate);
  Promise.all([json(container.getAttribute("data-moddle-url")), json(container.getAttribute("data-spiff-url"))])
    .then(function (d) { start({ camunda: d[0], spiffworkflow: d[1] }); })
    .catch(function (err) { container.setAttribute("data-ready", "error"); container.textContent = "建模器加载失败：" + err.message; });
})();
