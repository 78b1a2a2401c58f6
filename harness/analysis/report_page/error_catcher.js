window.onerror = function (message) {
  var root = document.body || document.documentElement;
  root.setAttribute("data-js-errors", String(Number(root.getAttribute("data-js-errors") || "0") + 1));
  root.setAttribute("data-js-error-message", String(message));
};
