// The segment rule builder: groups (all / any) of conditions (field, operator, value), drawn from
// the segment service's own field list (json_script "segment-builder-config"). The rules live in
// the form's JSON textarea, which the builder rewrites on every change; the live count asks the
// console's preview endpoint. No inline handlers: the page's CSP allows none.
(function () {
  "use strict";
  var configNode = document.getElementById("segment-builder-config");
  var root = document.getElementById("rule-builder");
  var form = document.getElementById("segment-form");
  if (!configNode || !root || !form) { return; }
  var config = JSON.parse(configNode.textContent);
  var words = config.words;
  var textarea = form.querySelector("textarea[name=rules]");
  var countNode = document.getElementById("live-count");
  var fields = {};
  config.fields.forEach(function (f) { fields[f.name] = f; });
  var state = { kind: "all", items: [] };
  var timer = null;
  var asked = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function opSpec(cond) {
    var f = fields[cond.field];
    if (!f) { return null; }
    for (var i = 0; i < f.ops.length; i++) { if (f.ops[i].op === cond.op) { return f.ops[i]; } }
    return null;
  }

  // --- from JSON to the builder's state, and back --------------------------------------------
  function fromJson(node) {
    if (!node || typeof node !== "object" || Array.isArray(node)) { return null; }
    if ("field" in node) { return { field: node.field, op: node.op, value: node.value }; }
    var kind = "all" in node ? "all" : ("any" in node ? "any" : null);
    if (!kind || !Array.isArray(node[kind])) { return null; }
    var items = node[kind].map(fromJson);
    if (items.indexOf(null) >= 0) { return null; }
    return { kind: kind, items: items };
  }

  function toJson(node) {
    if (node.field !== undefined) { return { field: node.field, op: node.op, value: node.value }; }
    var out = {};
    out[node.kind] = node.items.map(toJson);
    return out;
  }

  function missing(v) {
    return v === undefined || v === null || v === "" || (Array.isArray(v) && (v.length === 0 || v.some(missing)));
  }

  function complete(node) {
    if (node.field !== undefined) { return !missing(node.value); }
    return node.items.every(complete);
  }

  // --- one value input per kind ---------------------------------------------------------------
  function listText(v) { return Array.isArray(v) ? v.join(", ") : ""; }
  function splitList(text) {
    return text.split(/[,，、;\n]/).map(function (s) { return s.trim(); }).filter(function (s) { return s; });
  }

  function simpleInput(spec, value, onValue) {
    var input;
    if (spec.kind === "whole") {
      input = el("input", { type: "number", min: spec.min, max: spec.max, step: "1" });
      input.value = value === undefined || value === null ? "" : value;
      input.addEventListener("input", function () {
        onValue(input.value === "" ? null : parseInt(input.value, 10));
      });
    } else if (spec.kind === "fen") {
      // The service takes yuan as text ("99.50") as well as fen; people think in yuan.
      input = el("input", { type: "number", min: "0", step: "0.01", inputmode: "decimal" });
      input.value = typeof value === "number" ? (value / 100).toFixed(2) : (value || "");
      input.addEventListener("input", function () { onValue(input.value); });
    } else if (spec.kind === "date") {
      input = el("input", { type: "date" });
      input.value = value || "";
      input.addEventListener("input", function () { onValue(input.value); });
    } else {
      input = el("input", { type: "text", maxlength: "60" });
      input.value = value || "";
      input.addEventListener("input", function () { onValue(input.value.trim()); });
    }
    input.setAttribute("aria-label", words.value || "");
    return input;
  }

  function multiSelect(options, value, onValue, asNumber) {
    var select = el("select", { multiple: "multiple" });
    var chosen = (value || []).map(String);
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if (chosen.indexOf(String(o[0])) >= 0) { opt.selected = true; }
      select.appendChild(opt);
    });
    select.addEventListener("change", function () {
      var picked = Array.prototype.filter.call(select.options, function (o) { return o.selected; })
        .map(function (o) { return asNumber ? parseInt(o.value, 10) : o.value; });
      onValue(picked);
    });
    return select;
  }

  function valueInput(cond, spec, onValue) {
    var kind = spec.kind;
    if (kind === "pair") {
      var pair = Array.isArray(cond.value) ? cond.value.slice(0, 2) : [null, null];
      var low = simpleInput(spec.item, pair[0], function (v) { pair[0] = v; onValue(pair.slice()); });
      var high = simpleInput(spec.item, pair[1], function (v) { pair[1] = v; onValue(pair.slice()); });
      return el("span", { "class": "rule-pair" }, [low, el("span", { text: " " + words.and + " " }), high]);
    }
    if (kind === "choices") {
      var box = el("span", { "class": "rule-choices" });
      var current = Array.isArray(cond.value) ? cond.value.slice() : [];
      spec.choices.forEach(function (c) {
        var check = el("input", { type: "checkbox", value: c });
        check.checked = current.indexOf(c) >= 0;
        check.addEventListener("change", function () {
          var picked = Array.prototype.filter.call(box.querySelectorAll("input"), function (i) { return i.checked; })
            .map(function (i) { return i.value; });
          onValue(picked);
        });
        box.appendChild(el("label", {}, [check, el("span", { text: config.choice_labels[c] || c })]));
      });
      return box;
    }
    if (kind === "choice" || kind === "flag") {
      var select = el("select");
      var options = kind === "flag" ? [["true", words.yes], ["false", words.no]]
        : spec.choices.map(function (c) { return [c, config.choice_labels[c] || c]; });
      options.forEach(function (o) { select.appendChild(el("option", { value: o[0], text: o[1] })); });
      var initial = cond.value === undefined || cond.value === null ? options[0][0] : String(cond.value);
      select.value = initial;
      var pick = function () { onValue(kind === "flag" ? select.value === "true" : select.value); };
      select.addEventListener("change", pick);
      if (cond.value === undefined || cond.value === null) { pick(); }
      return select;
    }
    if (kind === "ids") {
      return multiSelect(config.options[cond.field] || [], cond.value, onValue, true);
    }
    if (kind === "tags" && config.options.tags.length) {
      return multiSelect(config.options.tags.map(function (t) { return [t, t]; }), cond.value, onValue, false);
    }
    if (kind === "texts" || kind === "tags") {
      var input = el("input", { type: "text", placeholder: words.list_hint });
      input.value = listText(cond.value);
      input.addEventListener("input", function () { onValue(splitList(input.value)); });
      return input;
    }
    return simpleInput(spec, cond.value, onValue);
  }

  // --- drawing ---------------------------------------------------------------------------------
  function button(text, onClick, cls) {
    var b = el("button", { type: "button", "class": cls || "btn-small", text: text });
    b.addEventListener("click", onClick);
    return b;
  }

  function newCondition() {
    var f = config.fields[0];
    return { field: f.name, op: f.ops[0].op, value: null };
  }

  function drawCondition(cond, parent) {
    var row = el("div", { "class": "rule-row", "data-field": cond.field });
    var fieldSelect = el("select", { "class": "rule-field", "aria-label": words.field || "" });
    config.fields.forEach(function (f) { fieldSelect.appendChild(el("option", { value: f.name, text: f.label })); });
    fieldSelect.value = cond.field;
    fieldSelect.addEventListener("change", function () {
      cond.field = fieldSelect.value;
      cond.op = fields[cond.field].ops[0].op;
      cond.value = null;
      changed(true);
    });
    var opSelect = el("select", { "class": "rule-op" });
    fields[cond.field].ops.forEach(function (o) { opSelect.appendChild(el("option", { value: o.op, text: o.label })); });
    opSelect.value = cond.op;
    opSelect.addEventListener("change", function () {
      var before = opSpec(cond);
      cond.op = opSelect.value;
      var after = opSpec(cond);
      if (!before || !after || before.kind !== after.kind) { cond.value = null; }
      changed(true);
    });
    var spec = opSpec(cond);
    row.appendChild(fieldSelect);
    row.appendChild(opSelect);
    if (spec) {
      row.appendChild(valueInput(cond, spec, function (v) { cond.value = v; changed(false); }));
    }
    row.appendChild(button(words.remove, function () {
      parent.items.splice(parent.items.indexOf(cond), 1);
      changed(true);
    }, "btn-small btn-link"));
    return row;
  }

  function drawGroup(group, parent, depth) {
    var box = el("div", { "class": "rule-group", "data-kind": group.kind });
    var kind = el("select", { "class": "rule-kind" });
    kind.appendChild(el("option", { value: "all", text: words.all }));
    kind.appendChild(el("option", { value: "any", text: words.any }));
    kind.value = group.kind;
    kind.addEventListener("change", function () { group.kind = kind.value; changed(true); });
    var head = el("div", { "class": "rule-group-head" }, [kind]);
    if (parent) {
      head.appendChild(button(words.remove, function () {
        parent.items.splice(parent.items.indexOf(group), 1);
        changed(true);
      }, "btn-small btn-link"));
    }
    box.appendChild(head);
    group.items.forEach(function (item) {
      box.appendChild(item.field !== undefined ? drawCondition(item, group) : drawGroup(item, group, depth + 1));
    });
    var actions = el("div", { "class": "rule-actions" });
    actions.appendChild(button(words.add_condition, function () { group.items.push(newCondition()); changed(true); }));
    if (depth < config.max_depth) {
      actions.appendChild(button(words.add_group, function () {
        group.items.push({ kind: group.kind === "all" ? "any" : "all", items: [newCondition()] });
        changed(true);
      }));
    }
    box.appendChild(actions);
    return box;
  }

  function draw() {
    root.textContent = "";
    root.appendChild(drawGroup(state, null, 1));
  }

  // --- keeping the JSON and the count in step ----------------------------------------------------
  function say(text, isError) {
    countNode.textContent = text;
    countNode.classList.toggle("is-error", !!isError);
  }

  function preview() {
    if (!complete(state) || !state.items.length) { say(words.incomplete, true); return; }
    var mine = ++asked;
    say(words.counting, false);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ rules: toJson(state) })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== asked) { return; }  // a newer change is being counted
      if (answer.ok) {
        say(words.count.replace("%(n)s", answer.body.count), false);
      } else {
        var d = answer.body.detail || {};
        say(words.invalid.replace("%(reason)s", [d.rules, d.path].filter(Boolean).join(" ") || answer.body.message), true);
      }
    }).catch(function () { if (mine === asked) { say(words.incomplete, true); } });
  }

  function changed(redraw) {
    textarea.value = JSON.stringify(toJson(state), null, 2);
    if (redraw) { draw(); }
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  function load(text) {
    var parsed = null;
    try { parsed = fromJson(JSON.parse(text)); } catch (e) { parsed = null; }
    return parsed;
  }

  textarea.addEventListener("input", function () {
    var parsed = load(textarea.value);
    if (!parsed || parsed.field !== undefined) { say(words.json_broken, true); return; }
    state = parsed;
    draw();
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  });

  var initial = load(textarea.value);
  if (initial && initial.field === undefined) { state = initial; }
  if (!state.items.length) { state.items.push(newCondition()); }
  draw();
  preview();
})();
