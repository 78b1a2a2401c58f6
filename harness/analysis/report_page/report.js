(function () {
  "use strict";
  var svg = document.getElementById("timeline");
  var scroller = document.getElementById("timeline-scroll");
  var details = document.getElementById("details");
  var explanation = document.getElementById("explanation");
  var data = JSON.parse(svg.getAttribute("data-layout"));
  var seqs = data.seqs, times = data.times, STEP = data.step, FOLD_W = __FOLD_WIDTH__;
  var params = new URLSearchParams(location.search);
  var state = {
    axis: times && params.get("axis") !== "order" ? "time" : "order",
    folded: Boolean(data.fold) && params.get("startup") !== "shown",
    zoom: Math.min(256, Math.max(1 / 16, Number(params.get("zoom")) || 1))
  };
  var active = null, geometry = null;

  // -- the layout: every seq has a column (event order) and a time; x follows the axis shown -------------
  function column(seq) {
    var lo = 0, hi = seqs.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (seqs[mid] < seq) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }
  function timeOf(seq) { return times[Math.min(column(seq), seqs.length - 1)]; }
  function scale() {
    var first = state.folded ? data.fold.seq : (seqs.length ? seqs[0] : 0);
    var last = seqs.length ? seqs[seqs.length - 1] : 0;
    var left = state.folded ? FOLD_W : 0;
    if (state.axis === "order") {
      return {raw: column, origin: column(first), unit: STEP * state.zoom, left: left, colW: STEP * state.zoom};
    }
    var room = Math.max(scroller.clientWidth - left - 40, 400);
    var t0 = timeOf(first), t1 = timeOf(last);
    return {raw: timeOf, origin: t0, unit: room / Math.max(t1 - t0, 1e-6) * state.zoom, left: left, colW: 0};
  }
  function x(seq) { return (geometry.raw(seq) - geometry.origin) * geometry.unit + geometry.left; }
  function clampX(value) { return state.folded ? Math.max(value, FOLD_W - 8) : value; }
  function folded(seq) { return state.folded && seq < data.fold.seq; }
  function num(el, name) { return Number(el.getAttribute(name)); }
  function px(value) { return String(Math.round(value * 10) / 10); }

  function layout() {
    geometry = scale();
    var colW = geometry.colW, right = 0, starts = new Map(), marks = new Map();
    function add(map, lane, value) { if (!map.has(lane)) { map.set(lane, []); } map.get(lane).push(value); }
    svg.querySelectorAll("path.marker").forEach(function (el) {
      var seq = num(el, "data-seq"), cx = x(seq) + colW / 2, kind = el.classList[1];
      el.classList.toggle("folded-away", folded(seq));
      el.setAttribute("d", "M" + px(cx) + "," + el.getAttribute("data-cy") + " " + data.shapes[kind]);
      if (!folded(seq)) { add(marks, el.parentNode, cx); right = Math.max(right, cx + 8); }
    });
    var calls = [];
    svg.querySelectorAll("rect.call").forEach(function (el) {
      // Rounded as the attribute is, so that a label finds its own span's start equal to the one it reads.
      var end = num(el, "data-end-seq"), a = Number(px(clampX(x(num(el, "data-enter-seq"))) + 1));
      var width = Math.max(x(end) + colW - 1 - a, 2);
      el.classList.toggle("folded-away", folded(end));
      el.setAttribute("x", px(a));
      el.setAttribute("width", px(width));
      if (!folded(end)) { add(starts, el.parentNode, a); right = Math.max(right, a + width); calls.push(el); }
    });
    starts.forEach(function (list) { list.sort(function (p, q) { return p - q; }); });
    // A name may run past its span's end up to the next span of its lane, and never under a marker.
    svg.querySelectorAll("text.call-label").forEach(function (el) {
      var rect = el.previousElementSibling, a = num(rect, "x"), end = a + el.textContent.length * data.charWidth + 4;
      var list = starts.get(rect.parentNode) || [], next = Infinity, half = data.markerHalf;
      for (var i = 0; i < list.length; i += 1) { if (list[i] > a) { next = list[i]; break; } }
      var clear = (marks.get(rect.parentNode) || []).every(function (cx) {
        return cx + half <= a || cx - half >= end;
      });
      var fits = !rect.classList.contains("folded-away") && end <= next && clear;
      el.classList.toggle("hidden", !fits);
      el.setAttribute("x", px(a + 2));
    });
    svg.querySelectorAll("rect.zombie").forEach(function (el) {
      var to = num(el, "data-to-seq"), a = clampX(x(num(el, "data-from-seq")));
      el.classList.toggle("folded-away", folded(to));
      el.setAttribute("x", px(a));
      el.setAttribute("width", px(Math.max(x(to) + colW - a, 2)));
    });
    svg.querySelectorAll("path.arrow").forEach(function (el) {
      var from = num(el, "data-from-seq"), to = num(el, "data-to-seq");
      el.classList.toggle("folded-away", folded(from) || folded(to));
      el.setAttribute("d", "M" + px(x(from) + colW / 2) + "," + el.getAttribute("data-y1") +
        " L" + px(x(to) + colW / 2) + "," + el.getAttribute("data-y2"));
    });
    var width = Math.ceil(Math.max(right, x(seqs.length ? seqs[seqs.length - 1] : 0) + colW) + 20);
    var height = svg.getAttribute("height");
    svg.setAttribute("width", String(width));
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.querySelectorAll("rect.lane-bg").forEach(function (el) { el.setAttribute("width", String(width)); });
    document.getElementById("fold-band").setAttribute("display", state.folded ? "inline" : "none");
    ticks(width);
    svg.setAttribute("data-axis", state.axis);
    svg.setAttribute("data-folded", state.folded ? "1" : "0");
    svg.setAttribute("data-zoom", String(Math.round(state.zoom * 1000) / 1000));
    document.getElementById("axis-time").setAttribute("aria-pressed", String(state.axis === "time"));
    document.getElementById("axis-order").setAttribute("aria-pressed", String(state.axis === "order"));
    var note = document.getElementById("fold-note");
    if (note) { note.setAttribute("data-folded", state.folded ? "1" : "0"); }
  }

  // -- the axis: ticks about 80 px apart, on round numbers ----------------------------------------------------
  function nice(least) {
    var power = Math.pow(10, Math.floor(Math.log10(least)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i += 1) { if (steps[i] * power >= least) { return steps[i] * power; } }
    return 10 * power;
  }
  function seconds(value, step) {
    if (step >= 1) { return value.toFixed(Math.max(0, -Math.floor(Math.log10(step)))) + " s"; }
    return (value * 1000).toFixed(Math.max(0, -Math.floor(Math.log10(step * 1000) + 1e-9))) + " ms";
  }
  function ticks(width) {
    var group = svg.querySelector("g.axis"), height = group.getAttribute("data-height"), top = __AXIS_HEIGHT__;
    var parts = [], label = document.getElementById("axis-label");
    function tick(at, text) {
      parts.push('<line class="grid" x1="' + px(at) + '" y1="' + (top - 4) + '" x2="' + px(at) + '" y2="' +
        height + '"/><text class="tick" x="' + px(at + 2) + '" y="' + (top - 8) + '">' + text + "</text>");
    }
    if (state.axis === "order") {
      var every = nice(80 / geometry.unit);
      for (var c = Math.ceil(geometry.origin / every) * every; c < seqs.length; c += every) {
        tick(x(seqs[c]), "#" + seqs[c]);
      }
      label.textContent = "event order: one column per event (or call entry), not to scale in time; a tick every " +
        every + " columns";
    } else {
      var step = nice(80 / geometry.unit), end = geometry.origin + (width - geometry.left) / geometry.unit;
      for (var t = Math.ceil(geometry.origin / step) * step; t <= end; t += step) {
        tick((t - geometry.origin) * geometry.unit + geometry.left, seconds(t, step));
      }
      label.textContent = "time since the command started, to scale: a call is as wide as it lasted; a tick every " +
        seconds(step, step);
    }
    group.innerHTML = parts.join("");
  }

  // -- switching, folding and zooming ---------------------------------------------------------------------------
  function zoomTo(zoom, clientX) {
    var box = scroller.getBoundingClientRect();
    var offset = clientX === undefined ? scroller.clientWidth / 2 : clientX - box.left;
    var before = scroller.scrollLeft + offset - geometry.left, old = state.zoom;
    state.zoom = Math.min(256, Math.max(1 / 16, zoom));
    layout();
    scroller.scrollLeft = Math.max(0, before * state.zoom / old + geometry.left - offset);
  }
  function setAxis(axis) {
    if (axis === "time" && !times) { return; }
    state.axis = axis;
    state.zoom = 1;
    layout();
    scroller.scrollLeft = 0;
  }
  function setFolded(value) { state.folded = Boolean(data.fold) && value; layout(); scroller.scrollLeft = 0; }
  document.getElementById("axis-time").addEventListener("click", function () { setAxis("time"); });
  document.getElementById("axis-order").addEventListener("click", function () { setAxis("order"); });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomTo(state.zoom * 1.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomTo(state.zoom / 1.5); });
  document.getElementById("zoom-reset").addEventListener("click", function () {
    zoomTo(1);
    scroller.scrollLeft = 0;
  });
  var unfold = document.getElementById("unfold");
  if (unfold) { unfold.addEventListener("click", function () { setFolded(!state.folded); }); }
  document.getElementById("fold-band").addEventListener("click", function () { setFolded(false); });
  scroller.addEventListener("wheel", function (event) {
    if (Math.abs(event.deltaY) <= Math.abs(event.deltaX)) { return; }  // a sideways scroll stays a scroll
    event.preventDefault();
    zoomTo(state.zoom * Math.exp(-event.deltaY * 0.002), event.clientX);
  }, {passive: false});
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || (target.closest && target.closest("input, textarea"))) {
      return;
    }
    if (event.key === "+" || event.key === "=") { zoomTo(state.zoom * 1.5); }
    else if (event.key === "-" || event.key === "_") { zoomTo(state.zoom / 1.5); }
    else if (event.key === "0") { zoomTo(1); scroller.scrollLeft = 0; }
    else if (event.key === "ArrowRight") { scroller.scrollLeft += scroller.clientWidth / 4; }
    else if (event.key === "ArrowLeft") { scroller.scrollLeft -= scroller.clientWidth / 4; }
    else { return; }
    event.preventDefault();
  });

  // -- hovering and findings -----------------------------------------------------------------------------------
  svg.addEventListener("mouseover", function (event) {
    var item = event.target.closest(".call, .marker, .arrow, .zombie, #fold-band");
    var title = item && item.querySelector("title");
    if (title) { details.textContent = title.textContent; }
  });

  function clear() {
    document.querySelectorAll(".highlight").forEach(function (el) { el.classList.remove("highlight"); });
    if (active) { active.classList.remove("active"); }
  }

  function highlight(finding) {
    var again = finding === active;
    clear();
    active = again ? null : finding;
    if (again) { svg.setAttribute("data-highlighted", "0"); return; }
    finding.classList.add("active");
    var seqs = new Set((finding.getAttribute("data-seqs") || "").split(" ").filter(Boolean));
    var roles = new Set((finding.getAttribute("data-roles") || "").split(" ").filter(Boolean));
    if (state.folded && Array.from(seqs).some(function (seq) { return Number(seq) < data.fold.seq; })) {
      setFolded(false);  // the finding is about the start-up: show it
    }
    var count = 0, left = Infinity;
    svg.querySelectorAll("[data-seq]").forEach(function (el) {
      if (!seqs.has(el.getAttribute("data-seq")) || el.classList.contains("call-label")) { return; }
      el.classList.add("highlight");
      count += 1;
      left = Math.min(left, el.getBBox().x);
    });
    document.querySelectorAll(".lane-label").forEach(function (el) {
      if (roles.has(el.getAttribute("data-role"))) { el.classList.add("highlight"); }
    });
    svg.setAttribute("data-highlighted", String(count));
    if (left !== Infinity) { scroller.scrollLeft = Math.max(0, left - scroller.clientWidth / 3); }
    details.textContent = finding.querySelector("h3").textContent;
  }

  if (explanation) {
    explanation.addEventListener("click", function (event) {
      var finding = event.target.closest(".finding");
      if (finding) { highlight(finding); }
    });
    explanation.addEventListener("keydown", function (event) {
      var finding = event.target.closest(".finding");
      if (finding && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); highlight(finding); }
    });
  }

  // The page opens at the start of the story: the start-up before listen folded, the view at the left edge.
  layout();
  scroller.scrollLeft = 0;

  // A link to #finding-N opens the page with that finding highlighted.
  var wanted = /^#finding-[0-9]+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
  if (wanted) { highlight(wanted); }
  document.body.setAttribute("data-rendered", "1");
})();
