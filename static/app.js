// Tandem's only script: small progressive enhancements. Every page works
// without it.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // Elements with data-autosubmit submit their form when changed.
  document.addEventListener("change", function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute("data-autosubmit") && ev.target.form) {
      ev.target.form.submit();
    }
  });
  // Leader selects show the unit picker only for the leader role.
  function syncRole(sel) {
    var target = document.getElementById(sel.getAttribute("data-role-toggle"));
    if (target) { target.hidden = sel.value !== "leader"; }
  }
  document.querySelectorAll("select[data-role-toggle]").forEach(function (sel) {
    syncRole(sel);
    sel.addEventListener("change", function () { syncRole(sel); });
  });
  // Copy buttons copy the text of the element they name.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      if (el && navigator.clipboard) { navigator.clipboard.writeText(el.textContent.trim()); btn.textContent = "Copied"; }
    });
  });
})();
