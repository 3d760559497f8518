// rampart console: progressive enhancement only (every page works without
// it). Confirmation before destructive actions, and a copy button for a
// new key.
"use strict";
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var msg = f && f.getAttribute && f.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
document.addEventListener("click", function (ev) {
  var b = ev.target.closest ? ev.target.closest("[data-copy]") : null;
  if (!b) {
    return;
  }
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent).then(function () {
      b.textContent = "Copied";
    });
  }
});
