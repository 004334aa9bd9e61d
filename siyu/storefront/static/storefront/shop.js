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
})();
