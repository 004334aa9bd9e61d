// Customer list: tick every row on this page at once, and say how many are chosen. Without
// JavaScript the rows and the "all matching this filter" box still work one by one.
(function () {
  "use strict";
  var form = document.querySelector("[data-bulk]");
  if (!form) { return; }
  var pageBox = form.querySelector("[data-bulk-page]");
  var allBox = form.querySelector("input[name='bulk-all_matching']");
  var count = form.querySelector("[data-bulk-count]");
  var rows = Array.prototype.slice.call(form.querySelectorAll("input[name='ids']"));
  var intro = count ? count.textContent : "";

  function refresh() {
    var ticked = rows.filter(function (box) { return box.checked; }).length;
    var all = allBox && allBox.checked;
    rows.forEach(function (box) { box.disabled = all; });
    if (pageBox) {
      pageBox.disabled = all;
      pageBox.checked = ticked > 0 && ticked === rows.length;
      pageBox.indeterminate = ticked > 0 && ticked < rows.length;
    }
    if (count) {
      count.textContent = all || ticked === 0 ? intro : (form.getAttribute("data-ticked") || "✓") + " " + ticked;
    }
  }

  if (pageBox) {
    pageBox.addEventListener("change", function () {
      rows.forEach(function (box) { box.checked = pageBox.checked; });
      refresh();
    });
  }
  rows.forEach(function (box) { box.addEventListener("change", refresh); });
  if (allBox) { allBox.addEventListener("change", refresh); }
  refresh();
})();
