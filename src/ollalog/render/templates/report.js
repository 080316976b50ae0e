// Draw the report's charts: their data is the JSON block #ollalog-figures (figures made by
// render/html.py); when every chart is drawn, <body data-charts="drawn"> says so (the tests wait for it).
(function () {
  "use strict";
  var block = document.getElementById("ollalog-figures");
  var figures = JSON.parse(block.textContent);
  var config = { displaylogo: false, responsive: true, showSendToCloud: false,
                 modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  var drawing = figures.map(function (f) {
    var el = document.getElementById(f.id);
    if (!el) { return Promise.reject(new Error("no element for chart " + f.id)); }
    return Plotly.newPlot(el, f.data, f.layout, config);
  });
  Promise.all(drawing).then(function () {
    document.body.dataset.charts = "drawn";
  }, function (err) {
    document.body.dataset.charts = "failed";
    console.error("ollalog report: a chart could not be drawn:", err);
  });
})();
