// SKU picker: one button row per spec; a full choice shows that SKU's price and stock.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sku-data").textContent);
  var picker = document.getElementById("sku-picker");
  if (!picker) return;
  // Translated words come from the picker's data-* attributes (no inline script: see the CSP).
  var t = { inStock: picker.dataset.inStock, soldOut: picker.dataset.soldOut,
            only: picker.dataset.only, chosen: picker.dataset.chosen };
  picker.addEventListener("submit", function (e) { e.preventDefault(); });
  var dims = Array.prototype.slice.call(picker.querySelectorAll("fieldset[data-dim]"));
  var chosen = dims.map(function () { return null; });
  var price = document.getElementById("price");
  var stock = document.getElementById("stock-state");
  var skuInput = document.getElementById("sku-id");
  var label = document.getElementById("chosen");

  function fen(n) { return (n / 100).toFixed(2); }
  function matches(sku, upto) {
    return chosen.every(function (v, i) { return i === upto || v === null || sku.values[i] === v; });
  }
  function stockText(n) {
    if (n <= 0) return t.soldOut;
    if (n <= 10) return t.only.replace("%s", n);
    return t.inStock;
  }
  function refresh() {
    dims.forEach(function (fs, i) {
      fs.querySelectorAll("button").forEach(function (b) {
        var v = b.dataset.value;
        var possible = data.some(function (s) { return s.values[i] === v && s.stock > 0 && matches(s, i); });
        b.classList.toggle("on", chosen[i] === v);
        b.setAttribute("aria-pressed", chosen[i] === v ? "true" : "false");
        b.classList.toggle("out", !possible);
      });
    });
    var sku = null;
    if (chosen.every(function (v) { return v !== null; })) {
      sku = data.find(function (s) { return s.values.every(function (v, i) { return chosen[i] === v; }); }) || null;
    }
    if (sku) {
      price.textContent = "¥" + fen(sku.price);
      stock.textContent = stockText(sku.stock);
      stock.classList.toggle("out", sku.stock <= 0);
      skuInput.value = sku.id;
      label.textContent = t.chosen + ": " + sku.values.join(" / ");
    } else {
      skuInput.value = "";
      label.textContent = "";
    }
    setBuyable(sku);
  }
  function setBuyable(sku) {
    document.querySelectorAll(".sku-field").forEach(function (f) { f.value = sku ? sku.id : ""; });
    document.querySelectorAll("button.buy").forEach(function (b) { b.disabled = !sku || sku.stock <= 0; });
  }
  dims.forEach(function (fs, i) {
    var seen = [];
    data.forEach(function (s) { if (seen.indexOf(s.values[i]) < 0) seen.push(s.values[i]); });
    var box = fs.querySelector(".opts");
    seen.forEach(function (v) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = v;
      b.dataset.value = v;
      b.addEventListener("click", function () { chosen[i] = chosen[i] === v ? null : v; refresh(); });
      box.appendChild(b);
    });
  });
  var buyNow = document.getElementById("buy-now-form");
  if (buyNow) buyNow.addEventListener("submit", function () {
    document.getElementById("buy-now-qty").value = document.getElementById("buy-qty").value;
  });
  refresh();
  if (!dims.length && data.length === 1) {
    skuInput.value = data[0].id;
    stock.textContent = stockText(data[0].stock);
    stock.classList.toggle("out", data[0].stock <= 0);
    setBuyable(data[0]);
  }
})();
