// Coupon form: show only the fields the chosen kind uses (each names its kinds in data-kinds).
// Without JavaScript every field shows and the service ignores the ones a kind does not use.
(function () {
  "use strict";
  var form = document.querySelector("[data-coupon-form]");
  if (!form) { return; }
  var kind = form.querySelector("select[name='kind']");
  var scope = form.querySelector("select[name='scope']");
  var byScope = { category_ids: "categories", product_ids: "products" };

  function box(input) { return input.closest(".field") || input; }

  function refresh() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-kinds]"), function (input) {
      box(input).hidden = kind && input.getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
    });
    Object.keys(byScope).forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      if (input && scope) { box(input).hidden = scope.value !== byScope[name]; }
    });
  }

  if (kind) { kind.addEventListener("change", refresh); }
  if (scope) { scope.addEventListener("change", refresh); }
  refresh();
}());
