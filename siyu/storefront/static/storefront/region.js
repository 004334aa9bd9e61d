// Address form: the 省/市/区 selects follow each other. The server renders the options of the
// address being edited; the whole list is fetched once (a cached JSON) when the shopper changes one.
(function () {
  "use strict";
  var box = document.getElementById("region-picker");
  if (!box) return;
  var province = document.getElementById("province");
  var city = document.getElementById("city");
  var district = document.getElementById("district");
  var tree = null;
  var loading = null;

  function load() {
    if (!loading) {
      loading = fetch(box.dataset.src, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) { tree = data; return data; });
    }
    return loading;
  }
  function fill(select, names) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    names.forEach(function (n) {
      var o = document.createElement("option");
      o.textContent = n;
      o.value = n;
      select.appendChild(o);
    });
    // A single choice (a municipality's city, a city without districts) is taken for the shopper.
    select.value = names.length === 1 ? names[0] : "";
  }
  function cities() { return Object.keys(tree[province.value] || {}); }
  function districts() { return (tree[province.value] || {})[city.value] || []; }

  province.addEventListener("change", function () {
    load().then(function () {
      fill(city, cities());
      fill(district, districts());
    });
  });
  city.addEventListener("change", function () {
    load().then(function () { fill(district, districts()); });
  });
  province.addEventListener("focus", load, { once: true });
  // A province chosen before this script ran (a slow phone, a quick hand) still gets its cities.
  if (province.value && city.options.length <= 1) {
    load().then(function () {
      fill(city, cities());
      fill(district, districts());
    });
  }
})();
