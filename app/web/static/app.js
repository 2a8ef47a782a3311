// 一窗 pages: small behaviours without inline script (the Content-Security-Policy allows only this site's files).
(function () {
  "use strict";

  // A button with data-confirm asks before its form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <input data-filter-options="select-id">: typing narrows the select's options by name or code.
  document.addEventListener("input", function (event) {
    var input = event.target;
    var id = input.getAttribute && input.getAttribute("data-filter-options");
    var select = id && document.getElementById(id);
    if (!select) return;
    var needle = input.value.trim().toLowerCase();
    Array.prototype.forEach.call(select.options, function (option) {
      option.hidden = Boolean(needle) && Boolean(option.value) && option.text.toLowerCase().indexOf(needle) < 0;
    });
  });

  // <button data-print-frame="id">: print the framed document (same origin) on its own, with its own
  // A4 print style sheet (the receipt page).
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var framed = event.target.closest("[data-print-frame]");
    if (framed) {
      var frame = document.getElementById(framed.getAttribute("data-print-frame"));
      if (frame && frame.contentWindow) frame.contentWindow.print();
    }
  });
})();
