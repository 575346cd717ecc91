// rusthook portal: the page works without this file; it only opens a sign-in link's form by
// itself and asks before a destructive form is sent. Served from the function, never inline.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var auto = document.querySelector("form[data-autosubmit]");
  if (auto) {
    auto.submit();
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
});
