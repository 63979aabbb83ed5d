/* The plan page: a live progress indicator while the plan solves, then the routes on a map.
   Vanilla JS over Leaflet (vendored); no tiles unless the server names a tile server. */
(function () {
  "use strict";

  function pollProgress(box) {
    var url = box.getAttribute("data-url");
    var bar = box.querySelector(".progress");
    var fill = bar && bar.querySelector("span");
    var field = function (name) { return box.querySelector('[data-field="' + name + '"]'); };
    function show(data) {
      var p = data.progress || {};
      if (fill) { fill.style.width = data.percent + "%"; bar.setAttribute("aria-valuenow", data.percent); }
      if (p.elapsed_s !== undefined && field("elapsed")) field("elapsed").textContent = p.elapsed_s;
      if (p.best_cost !== undefined && field("best_cost")) field("best_cost").textContent = p.best_cost;
      var feasible = field("feasible");
      if (feasible) feasible.textContent = feasible.getAttribute(p.feasible ? "data-yes" : "data-no");
      box.setAttribute("data-status", data.status);
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          show(data);
          if (data.finished) { window.location.reload(); } else { window.setTimeout(tick, 1000); }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 1000);
  }

  function drawMap(el) {
    if (typeof L === "undefined") return;
    var colours = JSON.parse(el.getAttribute("data-colours") || "{}");
    var names = JSON.parse(el.getAttribute("data-names") || "{}");
    var tiles = el.getAttribute("data-tile-url");
    var map = L.map(el, { scrollWheelZoom: false });
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.getAttribute("data-tile-attribution") || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("plain");
    }
    var colour = function (code) { return colours[code] || "#5f6368"; };
    /* Leaflet writes a string tooltip as HTML; names and codes are data, so give it text. */
    var text = function (value) { return document.createTextNode(value); };
    fetch(el.getAttribute("data-geojson"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (collection) {
        var bounds = L.latLngBounds([]);
        var stops = [];
        collection.features.forEach(function (f) {
          var g = f.geometry, p = f.properties;
          if (g.type === "LineString") {
            var line = g.coordinates.map(function (c) { return [c[1], c[0]]; });
            L.polyline(line, { color: colour(p.courier_code), weight: 4, opacity: 0.85,
                               className: "route route-" + p.courier_code }).addTo(map);
            line.forEach(function (ll) { bounds.extend(ll); });
          } else if (p.role === "depot") {
            var depot = [g.coordinates[1], g.coordinates[0]];
            L.circleMarker(depot, { radius: 10, color: "#1b1b1b", weight: 3, fillColor: "#ffc20e",
                                    fillOpacity: 1, className: "depot" })
              .bindTooltip(text(el.getAttribute("data-depot-label") + " " + p.post_office_code)).addTo(map);
            bounds.extend(depot);
          } else {
            stops.push(f);
          }
        });
        // Stops above the lines, so each stays clickable.
        stops.forEach(function (f) {
          var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          L.circleMarker(ll, { radius: 7, color: "#fff", weight: 2, fillColor: colour(p.courier_code),
                               fillOpacity: 1, className: "stop" })
            .bindTooltip(text((names[p.courier_code] || p.courier_code) + " · " + p.trip + " #" + p.sequence))
            .addTo(map);
          bounds.extend(ll);
        });
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
        el.setAttribute("data-drawn", String(collection.features.length));
      })
      .catch(function () { el.setAttribute("data-drawn", "error"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("plan-progress");
    if (box) pollProgress(box);
    var el = document.getElementById("plan-map");
    if (el) drawMap(el);
  });
})();
