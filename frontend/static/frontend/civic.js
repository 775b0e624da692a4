// Civic: small improvements on top of pages that work without JavaScript.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "ru";
  var words = {
    ru: { left: "осталось символов: ", need: "ещё нужно символов: " },
    kk: { left: "қалған таңба саны: ", need: "тағы қажет таңба саны: " },
    en: { left: "characters left: ", need: "characters still needed: " }
  }[lang] || { left: "characters left: ", need: "characters still needed: " };

  // Title and text: show the limits while typing.
  document.querySelectorAll("[data-counter]").forEach(function (field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    var min = parseInt(field.getAttribute("data-min") || "0", 10);
    var out = document.createElement("p");
    out.className = "counter";
    out.id = field.id + "_counter";
    out.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", out);
    var describedBy = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (describedBy ? describedBy + " " : "") + out.id);
    function update() {
      var length = field.value.trim().length;
      if (length < min) {
        out.textContent = words.need + (min - length);
        out.classList.remove("over");
      } else {
        out.textContent = words.left + (max - field.value.length);
        out.classList.toggle("over", field.value.length > max);
      }
    }
    field.addEventListener("input", update);
    update();
  });

  // Controls that only work with a script are shown only when it runs.
  document.querySelectorAll("[data-needs-script]").forEach(function (element) {
    element.hidden = false;
  });

  // Signed in, the header's links fold behind one button (shown only on a phone by the
  // stylesheet), so the page starts on the first screen; without a script they stay open.
  document.querySelectorAll("header nav .menu-toggle").forEach(function (toggle) {
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
    });
  });

  // "Select all" in the moderation queue.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      box.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });

  // Decision form: show only the fields that go with the chosen decision (and reason).
  // Each block says when it applies: data-when="decision=reject reason=duplicate".
  document.querySelectorAll("form").forEach(function (form) {
    var blocks = form.querySelectorAll("[data-when]");
    if (!blocks.length) { return; }
    function value(name) {
      var field = form.elements[name];
      if (!field) { return ""; }
      if (field.type === "radio" || field.type === "checkbox") { return field.checked ? field.value : ""; }
      if (field.length !== undefined && !field.options) {
        for (var i = 0; i < field.length; i++) { if (field[i].checked) { return field[i].value; } }
        return "";
      }
      return field.value;
    }
    function update() {
      blocks.forEach(function (block) {
        block.hidden = !block.getAttribute("data-when").split(" ").every(function (rule) {
          var parts = rule.split("=");
          return value(parts[0]) === parts[1];
        });
      });
    }
    form.addEventListener("change", update);
    update();
  });

  // Ask before something that cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // After a form comes back with errors, move the focus to the list of them.
  // A form that came back to say "someone proposed this already" does the same.
  var errors = document.getElementById("form-errors") || document.getElementById("similar");
  if (errors) { errors.focus(); }
})();
