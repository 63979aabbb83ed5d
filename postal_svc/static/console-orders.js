/* The order page's map: click a point (or a ward centre) to fix an address. Progressive
   enhancement: without this script the ward select alone does the job. No tiles configured:
   the ward centres are drawn on a plain background, so there is still something to aim at. */
(function () {
  "use strict";
  var box = document.getElementById("address-map");
  if (!box || !window.L) { return; }
  var wards = JSON.parse(document.getElementById("map-wards").textContent);
  var select = document.getElementById("ward_code");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var text = document.getElementById("point-text");
  var clear = document.getElementById("clear-point");
  var candidates = box.dataset.candidates ? JSON.parse(box.dataset.candidates) : [];
  var current = box.dataset.point ? JSON.parse(box.dataset.point) : null;
  /* Where to look when the address gave no clue: around the agency that sent the order. */
  var centre = box.dataset.centre ? JSON.parse(box.dataset.centre) : null;
  var emptyOption = select.options[0];
  var emptyText = emptyOption.textContent;

  box.hidden = false;
  var map = L.map(box, { zoomSnap: 0.5 });
  if (box.dataset.tileUrl) {
    L.tileLayer(box.dataset.tileUrl, { attribution: box.dataset.tileAttribution || "",
                                       maxZoom: 19 }).addTo(map);
  }

  function distance(a, b) { /* metres, equirectangular: fine at city scale */
    var k = Math.PI / 180, x = (b[1] - a[1]) * k * Math.cos((a[0] + b[0]) * k / 2);
    var y = (b[0] - a[0]) * k;
    return Math.sqrt(x * x + y * y) * 6371000;
  }
  function nearest(point) {
    var best = null, bestD = Infinity;
    wards.forEach(function (w) {
      var d = distance(point, [w.lat, w.lon]);
      if (d < bestD) { best = w; bestD = d; }
    });
    return best;
  }

  var bounds = [];
  wards.forEach(function (w) {
    var isCandidate = candidates.indexOf(w.code) >= 0;
    var marker = L.circleMarker([w.lat, w.lon], {
      radius: isCandidate ? 8 : 4, weight: 1, color: isCandidate ? "#b06000" : "#5f6368",
      fillOpacity: isCandidate ? 0.8 : 0.4, bubblingMouseEvents: false
    }).bindTooltip(w.name).addTo(map);
    marker.on("click", function () { chooseWard(w.code); });
    if (isCandidate) { bounds.push([w.lat, w.lon]); }
  });

  var pin = null;
  if (current) {
    L.circleMarker(current, { radius: 7, color: "#0b57d0", weight: 2, fillOpacity: 0.2 })
      .addTo(map);
    bounds.push(current);
  }

  function chooseWard(code) {
    select.value = code;
    forgetPoint();
  }
  function forgetPoint() {
    if (pin) { map.removeLayer(pin); pin = null; }
    lat.value = ""; lon.value = "";
    text.textContent = "";
    clear.hidden = true;
    emptyOption.textContent = emptyText;
  }
  function pick(latlng) {
    var point = [Number(latlng.lat.toFixed(6)), Number(latlng.lng.toFixed(6))];
    if (pin) { pin.setLatLng(point); } else { pin = L.marker(point).addTo(map); }
    lat.value = point[0]; lon.value = point[1];
    var near = nearest(point);
    text.textContent = box.dataset.textPoint.replace("{lat}", point[0])
      .replace("{lon}", point[1]).replace("{ward}", near ? near.name : "?");
    /* The server names the ward from the point unless one is chosen as well. */
    emptyOption.textContent = box.dataset.textAuto;
    select.value = "";
    clear.hidden = false;
  }

  map.on("click", function (event) { pick(event.latlng); });
  clear.addEventListener("click", forgetPoint);
  select.addEventListener("change", function () {
    if (select.value && pin) {
      var w = wards.filter(function (x) { return x.code === select.value; })[0];
      if (w) { map.panTo([w.lat, w.lon]); }
    }
  });

  if (bounds.length > 1) {
    map.fitBounds(bounds, { padding: [40, 40], maxZoom: 14 });
  } else if (bounds.length === 1) {
    map.setView(bounds[0], 14);
  } else if (centre) {
    map.setView(centre, 13);
  } else {
    map.fitBounds(wards.map(function (w) { return [w.lat, w.lon]; }), { padding: [10, 10] });
  }
}());
