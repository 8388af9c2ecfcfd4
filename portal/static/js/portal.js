// The portal's only script. Everything works without it; it only smooths htmx swaps and suggests a time zone.
(function () {
  "use strict";

  // After a swap, move focus to what the new content marks (its heading or its error summary), so
  // keyboard and screen-reader users continue from the right place.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    var target = root.matches && root.matches("[data-focus]") ? root : root.querySelector("[data-focus]");
    if (target && root.id !== "draft-status") {
      target.focus();
    }
  });

  // A form sent back with errors as a whole page (no swap): its error summary gets focus the same way,
  // so the problem is read out first. (Deferred script: the document is parsed by now.)
  var summary = document.querySelector(".error-summary[data-focus]");
  if (summary) {
    summary.focus();
  }

  // A person who never chose a time zone is offered their browser's own, when the portal knows that name.
  // Without JavaScript the organisation's zone stays preselected; nothing is saved until they press a button.
  function suggestZone(root) {
    var field = root.querySelector("input[data-suggest-zone]");
    if (!field || field.dataset.suggested) return;
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    var known = field.list && Array.prototype.some.call(field.list.options, function (option) {
      return option.value === zone;
    });
    field.dataset.suggested = "yes";
    if (!known || field.value === zone) return;
    field.value = zone;
    var note = document.getElementById("timezone-suggested");
    if (note) {
      note.textContent = "Suggested from your browser: " + zone + ". Change it if it is not right.";
      note.hidden = false;
    }
  }
  suggestZone(document);
  document.addEventListener("htmx:afterSettle", function () {
    suggestZone(document);
  });

  // A link in the error summary moves focus to the field it names.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var focusable = field.matches("input, textarea, select") ? field : field.querySelector("input, textarea, select");
    (focusable || field).focus();
  });
})();
