// Today's posts: one tap copies a post's text (with its link) or saves its images, and tells the
// shop that the post was shared. A file, not inline script: the Content-Security-Policy allows none.
(function () {
  "use strict";
  var tokenInput = document.querySelector("#content-today input[name=csrfmiddlewaretoken]");
  var token = tokenInput ? tokenInput.value : "";

  function record(card, kind) {
    var body = new FormData();
    body.append("kind", kind);
    return fetch(card.dataset.shareUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token }
    }).catch(function () { /* a lost count must not stop the sharer */ });
  }

  function say(card, text) {
    var status = card.querySelector(".content-status");
    if (status) { status.textContent = text; }
  }

  function copyText(area) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(area.value);
    }
    // In-app browsers without the clipboard API: select and copy the old way.
    area.classList.remove("visually-hidden");
    area.select();
    var done = document.execCommand("copy");
    area.classList.add("visually-hidden");
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.querySelectorAll("[data-content-post]").forEach(function (card) {
    var copy = card.querySelector("[data-content-copy]");
    var save = card.querySelector("[data-content-save]");
    if (copy) {
      copy.addEventListener("click", function () {
        copyText(card.querySelector("[data-content-text]")).then(function () {
          say(card, copy.dataset.done);
          record(card, "copy");
        }, function () {
          card.querySelector(".content-link").select();
        });
      });
    }
    if (save) {
      save.addEventListener("click", function () {
        card.querySelectorAll("a[data-content-image]").forEach(function (link, n) {
          // One click per image, spaced a little: browsers drop several downloads started at once.
          window.setTimeout(function () { link.click(); }, n * 400);
        });
        say(card, save.dataset.done);
        record(card, "save");
      });
    }
  });
})();
