/* Back-office behaviour. The admin's Content-Security-Policy allows no inline script: everything lives here. */
(function () {
  "use strict";

  // Every state-changing admin request carries the session's CSRF token (see admin/csrf.py).
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.content : null;
  if (token) {
    var originalFetch = window.fetch;
    window.fetch = function (input, init) {
      init = init || {};
      var method = (init.method || "GET").toUpperCase();
      if (["GET", "HEAD", "OPTIONS"].indexOf(method) === -1) {
        init.headers = new Headers(init.headers || {});
        init.headers.set("X-CSRF-Token", token);
      }
      return originalFetch(input, init);
    };
  }

  function addCsrfTokens() {
    if (!token) return;
    if (window.jQuery) {
      window.jQuery.ajaxSetup({ headers: { "X-CSRF-Token": token } });
    }
    document.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "GET").toUpperCase() !== "POST") return;
      if (form.querySelector('input[name="csrf_token"]')) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrf_token";
      input.value = token;
      form.appendChild(input);
    });
  }

  // Flash messages (SQLAdmin's toasts; its template's inline script is replaced by this).
  function showToasts() {
    if (!window.tabler || !window.tabler.bootstrap) return;
    document.querySelectorAll(".toast.admin-toast").forEach(function (element) {
      new window.tabler.bootstrap.Toast(element, { delay: 3000 }).show();
    });
  }

  // Date-range filters: "from..to" in one query parameter, page reset.
  function bindDateRanges() {
    document.querySelectorAll("form[data-date-range]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var url = new URL(window.location.href);
        var from = form.elements["from"].value;
        var to = form.elements["to"].value;
        if (from || to) {
          url.searchParams.set(form.dataset.dateRange, from + ".." + to);
        } else {
          url.searchParams.delete(form.dataset.dateRange);
        }
        url.searchParams.delete("page");
        window.location.href = url.toString();
      });
    });
  }

  // The fulfillment board reloads its queues every 30 seconds while the tab is visible.
  function refreshBoard() {
    var board = document.getElementById("board");
    var stamp = document.getElementById("board-updated");
    if (!board || !stamp || !board.dataset.refreshUrl) return;
    function mark() {
      stamp.textContent = new Date().toLocaleTimeString();
    }
    mark();
    window.setInterval(function () {
      if (document.hidden) return;
      fetch(board.dataset.refreshUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          board.innerHTML = html;
          mark();
        })
        .catch(function () {
          stamp.textContent = board.dataset.failedText || "";
        });
    }, 30000);
  }

  // "Copy" buttons (a new checkout link's address): copy the named input's value, select it as a fallback.
  function bindCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copyTarget);
        if (!input) return;
        input.select();
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(function () {});
      });
    });
  }

  // "/" anywhere (outside a field) focuses the search: the list's own, else the order search in the top bar.
  function bindSearchShortcut() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
      var search = document.getElementById("search-input") || document.getElementById("global-search");
      if (!search) return;
      event.preventDefault();
      search.focus();
      search.select();
    });
  }

  // The top bar's order search: Enter opens the orders list searched for the term.
  function bindGlobalSearch() {
    var input = document.getElementById("global-search");
    if (!input || !input.dataset.searchUrl) return;
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !input.value.trim()) return;
      event.preventDefault();
      window.location.href = input.dataset.searchUrl + "?search=" + encodeURIComponent(input.value.trim());
    });
  }

  // The sidebar keeps the group of the page shown open.
  function openCurrentGroup() {
    document.querySelectorAll("#navbar-menu .nav-item.dropdown > .dropdown-toggle.active").forEach(function (toggle) {
      toggle.classList.add("show");
      toggle.setAttribute("aria-expanded", "true");
      var menu = toggle.parentElement.querySelector(".dropdown-menu");
      if (menu) menu.classList.add("show");
    });
  }

  // Lists: the filter panel is folded until the "Filters" button opens it, or while a filter is set.
  function bindFilterToggle() {
    var column = document.querySelector(".filter-sidebar-col");
    var button = document.getElementById("filters-toggle");
    if (!column || !button) return;
    if (button.dataset.filtered === "true") column.classList.add("filters-open");
    button.setAttribute("aria-expanded", String(column.classList.contains("filters-open")));
    button.addEventListener("click", function () {
      var open = column.classList.toggle("filters-open");
      button.setAttribute("aria-expanded", String(open));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    addCsrfTokens();
    bindSearchShortcut();
    bindGlobalSearch();
    openCurrentGroup();
    bindFilterToggle();
    bindCopyButtons();
    showToasts();
    bindDateRanges();
    refreshBoard();
  });
})();
