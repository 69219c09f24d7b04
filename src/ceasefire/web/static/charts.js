// ceasefire serve: draws each div.vl-chart with the vendored Vega-Lite libraries (served by
// the app from /charts), in place of the static SVG inside it, on load and after each
// htmx swap. With scripts off, or when a chart cannot be drawn, the static SVG stays.
// No inline styles (the page's policy allows only the app's own style sheet): vega-embed's
// and the tooltip's styles are in app.css.
"use strict";
(function () {
  // ast: expressions are interpreted (vega-embed's interpreter), never compiled with eval.
  var opts = {renderer: "svg", mode: "vega-lite", actions: false, defaultStyle: false, ast: true,
    tooltip: {disableDefaultStyle: true}};
  function draw(el) {
    if (el.hasAttribute("data-drawn") || el.hasAttribute("data-busy")) return;
    el.setAttribute("data-busy", "");
    var box = document.createElement("div");
    el.appendChild(box); // drawn in the page, beside its fallback until done: it knows its width
    vegaEmbed(box, JSON.parse(el.getAttribute("data-spec")), opts).then(function () {
      el.replaceChildren(box);
      el.setAttribute("data-drawn", "data-spec");
    }).catch(function (err) {
      box.remove();
      el.setAttribute("data-error", String(err));
    }).finally(function () {
      el.removeAttribute("data-busy");
    });
  }
  function drawAll() {
    if (typeof vegaEmbed === "undefined") return;
    document.querySelectorAll("div.vl-chart").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  document.addEventListener("htmx:afterSettle", drawAll);
})();
