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
  // The setup form fills in this browser's time zone.
  document.querySelectorAll("input[data-browser-zone]").forEach(function (el) {
    if (!el.value && window.Intl) {
      try { el.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* typed by hand then */ }
    }
  });
  // The program form: a preset fills in the cadence fields, fields that do
  // not apply are hidden, and the words and next rounds of the cadence are
  // asked of the server (the one place that computes them) as it changes.
  document.querySelectorAll("form[data-cadence-form]").forEach(function (form) {
    var url = form.getAttribute("data-cadence-form");
    var names = ["preset", "repeat", "on", "weeks", "weekday", "nth", "day", "start", "at", "cron", "timezone", "window_days"];
    var presetFields = ["repeat", "on", "weeks", "weekday", "nth", "at"];
    var preset = form.elements.namedItem("preset");
    function val(n) { var el = form.elements.namedItem(n); return el ? el.value : ""; }
    function show() {
      var repeat = val("repeat"), on = val("on");
      form.querySelectorAll("[data-for]").forEach(function (el) {
        var ok = el.getAttribute("data-for").split(" ").indexOf(repeat) >= 0;
        var needOn = el.getAttribute("data-by");
        if (ok && needOn && repeat !== "weekly") { ok = needOn === on; }
        el.hidden = !ok;
      });
    }
    function applyPreset() {
      var opt = preset && preset.options[preset.selectedIndex];
      if (!opt || !opt.value) { return; }
      presetFields.forEach(function (n) {
        // data-by, not data-on: templates read on* attributes as script.
        var v = opt.getAttribute(n === "on" ? "data-by" : "data-" + n), el = form.elements.namedItem(n);
        if (v !== null && el) { el.value = v; }
      });
    }
    var timer = null, asked = 0;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = new URLSearchParams();
        names.forEach(function (n) { q.set(n, val(n)); });
        var mine = ++asked;
        fetch(url + "?" + q.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (d) {
            if (!d || mine !== asked) { return; }
            document.getElementById("cadence-words").textContent = d.words || "";
            var list = document.getElementById("cadence-next");
            list.textContent = "";
            (d.next || []).forEach(function (s) {
              var li = document.createElement("li");
              li.textContent = s;
              list.appendChild(li);
            });
            names.forEach(function (n) {
              var p = form.querySelector('[data-error-for="' + n + '"]'), el = form.elements.namedItem(n);
              if (!p) { return; }
              var msg = (d.problems || {})[n] || "";
              p.textContent = msg;
              if (el && el.setAttribute) {
                if (msg) { el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
              }
            });
          })
          .catch(function () { /* the form still works; the server checks on save */ });
      }, 200);
    }
    function changed(ev) {
      var n = ev.target.name;
      if (names.indexOf(n) < 0) { return; }
      if (n === "preset") {
        applyPreset();
      } else if (presetFields.indexOf(n) >= 0 && preset) {
        preset.value = ""; // the fields as set, not a preset
      }
      show();
      refresh();
    }
    form.addEventListener("change", changed);
    form.addEventListener("input", changed);
    show();
  });
  // Copy buttons copy the text of the element they name. They are hidden
  // in the page (without this script the text is selected with one
  // click, see .select-all) and shown here. The text is also selected,
  // so that Ctrl+C works where the clipboard is not allowed (plain http).
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var id = btn.getAttribute("data-copy");
    var el = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!el) { return; }
    btn.hidden = false;
    function say(msg) { if (status) { status.textContent = msg; } }
    btn.addEventListener("click", function () {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var text = el.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say("Copied."); },
          function () { say("Selected: press Ctrl+C (⌘C) to copy."); });
      } else {
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        say(ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
      }
    });
  });
})();
