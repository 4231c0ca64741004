/* Shoal admin pages: the little behaviour htmx doesn't cover, without inline scripts (strict CSP).
 *
 * - <dialog data-modal>: opened as a modal when htmx swaps it in; Escape or a [data-close-dialog]
 *   button closes it.
 * - [data-oauth-popup] (a link or a GET form): opens the CRM's consent page in a pop-up window;
 *   when the pop-up closes, the page reloads, so it shows the new connection at once: its
 *   self-polling status while the check runs, or (already connected) the CRM's settings.
 *   Pop-ups blocked: the same URL opens in this window instead (the callback returns here).
 * - [data-menu-toggle] (the top bar's "Menu" and account buttons): a disclosure of the element named
 *   by aria-controls; aria-expanded is the state the CSS shows. Escape closes it and puts focus back
 *   on its button; a click outside closes it. Opening one closes the others.
 * - [data-close-window] (on the page, or swapped in by the OAuth pop-up's polling fragment once
 *   connected): the pop-up closes itself; [data-close-self] is a button that closes it.
 */
(function () {
  "use strict";

  function openModals(root) {
    (root || document).querySelectorAll("dialog[data-modal]").forEach(function (d) {
      if (!d.open && typeof d.showModal === "function") { d.showModal(); }
      var first = d.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    });
  }

  function popupUrl(el) {
    if (el.tagName === "FORM") {
      var params = new URLSearchParams(new FormData(el));
      var action = el.getAttribute("action");
      return action + (action.indexOf("?") < 0 ? "?" : "&") + params.toString();
    }
    return el.getAttribute("href");
  }

  function startPopup(event) {
    var el = event.target.closest("[data-oauth-popup]");
    if (!el) { return; }
    var url = popupUrl(el);
    var w = 560, h = 720;
    var left = window.screenX + Math.max(0, (window.outerWidth - w) / 2);
    var top = window.screenY + Math.max(0, (window.outerHeight - h) / 2);
    var popup = window.open(url, "shoal-oauth",
      "popup=yes,width=" + w + ",height=" + h + ",left=" + left + ",top=" + top);
    if (!popup) { return; }            // blocked: let the link or form navigate as usual
    event.preventDefault();
    el.setAttribute("aria-busy", "true");
    var timer = window.setInterval(function () {
      if (!popup.closed) { return; }
      window.clearInterval(timer);
      el.removeAttribute("aria-busy");
      window.location.reload();
    }, 400);
  }

  function openMenus() {
    return document.querySelectorAll("[data-menu-toggle][aria-expanded='true']");
  }

  function setMenu(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function onMenuClick(event) {
    var button = event.target.closest("[data-menu-toggle]");
    openMenus().forEach(function (b) {
      if (b === button) { return; }
      var menu = document.getElementById(b.getAttribute("aria-controls"));
      if (!menu || !menu.contains(event.target)) { setMenu(b, false); }
    });
    if (button) { setMenu(button, button.getAttribute("aria-expanded") !== "true"); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = openMenus();
    if (!open.length) { return; }
    var last = open[open.length - 1];     // the innermost: the account menu inside the small-screen menu
    setMenu(last, false);
    last.focus();
  });

  document.addEventListener("click", function (event) {
    onMenuClick(event);
    if (event.target.closest("a[data-oauth-popup]")) { startPopup(event); }
    if (event.target.closest("[data-close-self]")) { window.close(); }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) { closer.closest("dialog").close(); }
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-oauth-popup]")) { startPopup(event); }
  });
  function closeIfDone() {
    if (document.querySelector("[data-close-window]") && window.opener) {
      window.setTimeout(function () { window.close(); }, 600);
    }
  }

  document.addEventListener("htmx:afterSettle", function (event) { openModals(event.target); closeIfDone(); });
  document.addEventListener("DOMContentLoaded", function () { openModals(document); closeIfDone(); });
})();
