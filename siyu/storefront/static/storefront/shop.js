// Small behaviours shared by storefront pages. They live here rather than in on*= attributes
// because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  // A link to copy: one tap selects all of it.
  document.querySelectorAll("[data-select-all]").forEach(function (el) {
    el.addEventListener("click", function () { el.select(); });
  });
  // Checkout: picking another address or changing points recalculates the page (a GET of the form).
  document.querySelectorAll("[data-reload-on-change]").forEach(function (el) {
    el.addEventListener("change", function () {
      el.form.method = "get";
      el.form.submit();
    });
  });
  // A quantity stepper (− input +) that needs no round trip: the product page's quantity.
  document.querySelectorAll("[data-stepper]").forEach(function (box) {
    var input = box.querySelector("input[type=number]");
    box.querySelectorAll("button[data-step]").forEach(function (b) {
      b.addEventListener("click", function () {
        var min = parseInt(input.min, 10) || 1, max = parseInt(input.max, 10) || 999;
        var next = (parseInt(input.value, 10) || min) + parseInt(b.dataset.step, 10);
        input.value = Math.min(max, Math.max(min, next));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  });
})();
