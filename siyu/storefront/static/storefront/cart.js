// Cart: the total and the checkout button follow the ticked lines. The server prices the order
// again at checkout; this is only what the shopper sees while choosing.
(function () {
  "use strict";
  var total = document.getElementById("cart-total");
  var button = document.getElementById("to-checkout");
  var count = document.getElementById("picked-count");
  if (!total || !button) return;
  var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
  function refresh() {
    var fen = 0, n = 0;
    picks.forEach(function (p) {
      if (p.checked && !p.disabled) {
        fen += parseInt(p.closest(".cart-line").dataset.lineTotal, 10) || 0;
        n += 1;
      }
    });
    // Whole fen, formatted without floating point (as the server's format_yuan does).
    total.textContent = total.dataset.currency + Math.floor(fen / 100) + "." + String(fen % 100).padStart(2, "0");
    button.disabled = n === 0;
    if (count) count.textContent = n;
  }
  picks.forEach(function (p) { p.addEventListener("change", refresh); });
})();
