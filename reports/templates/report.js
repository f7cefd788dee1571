// The report page's script: draws the operation timeline and the nemesis
// timeline on canvases (shared zoom and pan, hover details, click to read
// the logs), and the node logs merged by time (text and node filters, jump
// to a time). Everything comes from the JSON embedded in the page; nothing
// is loaded from anywhere else. Text is only ever set with textContent.
(function () {
  'use strict';

  var OUTCOME_COLORS = ['#2ca02c', '#d62728', '#f0a000'];
  var OUTCOME_NAMES = ['ok', 'fail', 'info'];
  var GUTTER = 70;   // px left of the time axis, for lane labels
  var RIGHT = 10;    // px right margin
  var TOP = 22;      // px of axis labels above the lanes

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var T = readJson('timeline-data');
  var L = readJson('logs-data');
  var tooltip = document.getElementById('tooltip');

  function fmtS(ms) { return (ms / 1000).toFixed(3) + ' s'; }
  function fmtDur(ms) {
    if (ms < 1) return (ms * 1000).toFixed(0) + ' µs';
    if (ms < 1000) return ms.toFixed(1) + ' ms';
    return (ms / 1000).toFixed(2) + ' s';
  }

  function showTooltip(text, ev) {
    tooltip.textContent = text;
    tooltip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tooltip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = ev.clientX - r.width - 14;
    if (y + r.height > window.innerHeight - 8) y = ev.clientY - r.height - 14;
    tooltip.style.left = x + 'px';
    tooltip.style.top = y + 'px';
  }
  function hideTooltip() { tooltip.hidden = true; }

  // ---------------------------------------------------------------- view --
  var full = Math.max(T.end, 1);
  var view = { t0: 0, t1: full };
  var drawers = [];
  var framePending = false;
  function drawAll() { for (var i = 0; i < drawers.length; i++) drawers[i](); }
  function redraw() {
    if (framePending) return;
    framePending = true;
    window.requestAnimationFrame(function () { framePending = false; drawAll(); });
  }
  function clampView() {
    var minSpan = 0.01;
    var span = view.t1 - view.t0;
    if (span < minSpan) {
      var c = (view.t0 + view.t1) / 2;
      view.t0 = c - minSpan / 2; view.t1 = c + minSpan / 2; span = minSpan;
    }
    if (span >= full) { view.t0 = 0; view.t1 = full; return; }
    if (view.t0 < 0) { view.t1 -= view.t0; view.t0 = 0; }
    if (view.t1 > full) { view.t0 -= view.t1 - full; view.t1 = full; }
  }
  function zoom(factor, center) {
    var c = center === undefined ? (view.t0 + view.t1) / 2 : center;
    view.t0 = c - (c - view.t0) * factor;
    view.t1 = c + (view.t1 - c) * factor;
    clampView();
    redraw();
  }
  function plotWidth(w) { return Math.max(10, w - GUTTER - RIGHT); }
  function xOf(t, w) { return GUTTER + (t - view.t0) / (view.t1 - view.t0) * plotWidth(w); }
  function tOf(x, w) { return view.t0 + (x - GUTTER) / plotWidth(w) * (view.t1 - view.t0); }

  function setupCanvas(canvas, height) {
    // Keep the backing store under ~8000 device pixels high.
    var dpr = Math.min(window.devicePixelRatio || 1, Math.max(1, 8000 / height));
    var w = canvas.parentElement.clientWidth || 800;
    canvas.style.height = height + 'px';
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(height * dpr);
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, height);
    return { ctx: ctx, w: w, h: height };
  }

  function niceStep(span, px) {
    var target = span / Math.max(1, px / 110);
    var p = Math.pow(10, Math.floor(Math.log10(target)));
    var m = target / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function drawAxis(c) {
    var ctx = c.ctx;
    var step = niceStep(view.t1 - view.t0, plotWidth(c.w));
    var digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1000) + 1e-9)));
    ctx.font = '11px sans-serif';
    ctx.fillStyle = '#68717d';
    ctx.strokeStyle = '#e9ecef';
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1 + 1e-9; t += step) {
      var x = Math.round(xOf(t, c.w)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, TOP - 4); ctx.lineTo(x, c.h); ctx.stroke();
      ctx.fillText((t / 1000).toFixed(digits) + ' s', x, 4);
    }
  }
  function drawFaultBands(c, alpha) {
    var ctx = c.ctx;
    for (var i = 0; i < T.faults.length; i++) {
      var f = T.faults[i];
      if (f.e < view.t0 || f.s > view.t1) continue;
      var x0 = Math.max(GUTTER, xOf(f.s, c.w));
      var x1 = Math.min(c.w - RIGHT, xOf(f.e, c.w));
      ctx.globalAlpha = alpha;
      ctx.fillStyle = T.kinds[f.kind].color;
      ctx.fillRect(x0, TOP, Math.max(1, x1 - x0), c.h - TOP);
    }
    ctx.globalAlpha = 1;
  }

  // Solid fault bands in a strip just above the lanes, visible even where
  // dense operation bars hide the translucent shading.
  function drawFaultStrip(c) {
    var ctx = c.ctx;
    for (var i = 0; i < T.faults.length; i++) {
      var f = T.faults[i];
      if (f.e < view.t0 || f.s > view.t1) continue;
      var x0 = Math.max(GUTTER, xOf(f.s, c.w));
      var x1 = Math.min(c.w - RIGHT, xOf(f.e, c.w));
      ctx.fillStyle = T.kinds[f.kind].color;
      ctx.fillRect(x0, TOP - 5, Math.max(2, x1 - x0), 4);
    }
  }

  // Pan by dragging, zoom with Ctrl+wheel or double-click, hover, click.
  function interact(canvas, hit, describe, onClick) {
    var drag = null;
    canvas.addEventListener('mousedown', function (e) {
      drag = { x: e.clientX, t0: view.t0, t1: view.t1, moved: false };
      e.preventDefault();
    });
    window.addEventListener('mouseup', function (e) {
      if (!drag) return;
      var wasClick = !drag.moved;
      drag = null;
      if (wasClick && e.target === canvas) {
        var r = canvas.getBoundingClientRect();
        onClick(hit(e.clientX - r.left, e.clientY - r.top, r.width));
      }
    });
    window.addEventListener('mousemove', function (e) {
      if (!drag) return;
      var r = canvas.getBoundingClientRect();
      var dx = e.clientX - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      if (!drag.moved) return;
      var dt = dx / plotWidth(r.width) * (drag.t1 - drag.t0);
      view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt;
      clampView();
      hideTooltip();
      redraw();
    });
    canvas.addEventListener('mousemove', function (e) {
      if (drag && drag.moved) return;
      var r = canvas.getBoundingClientRect();
      var h = hit(e.clientX - r.left, e.clientY - r.top, r.width);
      if (h < 0) { hideTooltip(); canvas.style.cursor = 'crosshair'; } else { showTooltip(describe(h), e); canvas.style.cursor = 'pointer'; }
      if (canvas.hoverChanged) canvas.hoverChanged(h);
    });
    canvas.addEventListener('mouseleave', function () {
      hideTooltip();
      if (canvas.hoverChanged) canvas.hoverChanged(-1);
    });
    canvas.addEventListener('wheel', function (e) {
      var r = canvas.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey || e.altKey) {
        e.preventDefault();
        zoom(e.deltaY > 0 ? 1.25 : 0.8, tOf(e.clientX - r.left, r.width));
      } else if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        var dt = e.deltaX / plotWidth(r.width) * (view.t1 - view.t0);
        view.t0 += dt; view.t1 += dt;
        clampView();
        redraw();
      }
    }, { passive: false });
    canvas.addEventListener('dblclick', function (e) {
      var r = canvas.getBoundingClientRect();
      zoom(e.shiftKey ? 2 : 0.5, tOf(e.clientX - r.left, r.width));
    });
  }

  // ------------------------------------------------------------ timeline --
  var S = T.stride;
  var ops = T.ops;
  var nOps = ops.length / S;
  var errors = {};
  T.errs.forEach(function (pair) { errors[pair[0]] = T.errors[pair[1]]; });
  // Lanes: one per process, or one per worker (process mod concurrency,
  // Jepsen's convention for the process number a worker takes after an
  // info). `lanes[l]` lists op ids by start; `laneMaxEnd[l][k]` is the
  // latest end among the first k+1 of them, for binary search.
  var lanes, laneMaxEnd, laneLabels, opLane, laneH;
  var hoverOp = -1, selectedOp = -1;
  var tl = document.getElementById('timeline-canvas');

  function endOf(i) { var e = ops[i * S + 2]; return e < 0 ? T.end : e; }
  function buildLanes(byWorker) {
    var n = byWorker ? T.workers : T.lanes.length;
    lanes = [];
    laneLabels = [];
    for (var l = 0; l < n; l++) {
      lanes.push([]);
      laneLabels.push(byWorker ? 'w' + l : 'p' + T.lanes[l]);
    }
    opLane = new Int32Array(nOps);
    for (var i = 0; i < nOps; i++) {
      var lane = byWorker ? Number(T.lanes[ops[i * S]]) % T.workers : ops[i * S];
      opLane[i] = lane;
      lanes[lane].push(i);
    }
    laneMaxEnd = lanes.map(function (lane) {
      var out = new Float64Array(lane.length), m = -Infinity;
      for (var k = 0; k < lane.length; k++) { m = Math.max(m, endOf(lane[k])); out[k] = m; }
      return out;
    });
    // Lanes shrink to fit ~560 px, down to 3 px; past 2000 lanes they
    // shrink further so the canvas stays under 6000 px.
    laneH = Math.max(3, Math.min(16, Math.floor(560 / Math.max(1, lanes.length))));
    if (lanes.length * laneH > 6000) laneH = 6000 / lanes.length;
  }
  // First position in lane `l` from which an operation may end at or after t.
  function firstEndingAfter(l, t) {
    var ends = laneMaxEnd[l], lo = 0, hi = ends.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (ends[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  var laneMode = document.getElementById('lane-mode');
  // `?lanes=worker` in the address opens the page with worker lanes.
  var byWorker = !!(laneMode && T.workers && /[?&]lanes=worker\b/.test(window.location.search));
  if (byWorker) laneMode.value = 'worker';
  buildLanes(byWorker);
  if (laneMode) {
    laneMode.addEventListener('change', function () {
      buildLanes(laneMode.value === 'worker');
      hoverOp = -1;
      redraw();
    });
  }
  function describeOp(i) {
    var b = i * S, end = ops[b + 2];
    var head = T.fs[ops[b + 4]];
    if (ops[b + 5] >= 0) head += ' ' + T.keys[ops[b + 5]];
    if (T.vals[i]) head += ' ' + T.vals[i];
    var lines = [
      'process ' + T.lanes[ops[b]] + ' · ' + head + ' → ' + OUTCOME_NAMES[ops[b + 3]],
      'invoked ' + fmtS(ops[b + 1]) + (end >= 0 ? ', completed ' + fmtS(end) + ' (' + fmtDur(end - ops[b + 1]) + ')' : ', never completed')
    ];
    if (ops[b + 6] >= 0) lines.push('node ' + T.nodes[ops[b + 6]]);
    if (errors[i] !== undefined) lines.push('error: ' + errors[i]);
    lines.push('history index ' + ops[b + 7]);
    return lines.join('\n');
  }
  function opAt(mx, my, w) {
    var l = Math.floor((my - TOP) / laneH);
    if (l < 0 || l >= lanes.length || mx < GUTTER) return -1;
    var t = tOf(mx, w);
    var tol = 3 * (view.t1 - view.t0) / plotWidth(w);
    var lane = lanes[l];
    var best = -1, bestD = Infinity;
    for (var k = firstEndingAfter(l, t - tol); k < lane.length; k++) {
      var idx = lane[k], s = ops[idx * S + 1];
      if (s > t + tol) break;
      var e = endOf(idx);
      var d = t < s ? s - t : (t > e ? t - e : 0);
      if (d < bestD) { bestD = d; best = idx; }
      if (d === 0) break;
    }
    return bestD <= tol ? best : -1;
  }
  function outline(ctx, w, i, color) {
    if (i < 0) return;
    var b = i * S, lane = opLane[i];
    var x0 = Math.max(GUTTER, xOf(ops[b + 1], w)), x1 = xOf(endOf(i), w);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 - 1, TOP + lane * laneH - 1, Math.max(2, x1 - x0) + 2, laneH + 2);
  }
  function drawTimeline() {
    var c = setupCanvas(tl, TOP + lanes.length * laneH + 6);
    var ctx = c.ctx;
    drawFaultBands(c, 0.16);
    drawAxis(c);
    drawFaultStrip(c);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#68717d';
    ctx.font = Math.max(8, Math.min(11, laneH)) + 'px sans-serif';
    var labelEvery = Math.max(1, Math.ceil(11 / laneH));
    for (var l = 0; l < lanes.length; l += labelEvery) {
      ctx.fillText(laneLabels[l], GUTTER - 6, TOP + l * laneH + laneH / 2);
    }
    var paths = [new Path2D(), new Path2D(), new Path2D()];
    var gap = laneH > 6 ? 1 : 0;
    var right = c.w - RIGHT;
    var minH = Math.max(1, laneH - 2 * gap);
    for (var m = 0; m < lanes.length; m++) {
      var lane = lanes[m];
      var y = TOP + m * laneH + gap, h = minH;
      var lastX = -1, lastO = -1;
      for (var k = firstEndingAfter(m, view.t0); k < lane.length; k++) {
        var idx = lane[k], b = idx * S, s = ops[b + 1];
        if (s > view.t1) break;
        var x0 = Math.max(GUTTER, xOf(s, c.w));
        var x1 = Math.min(right, xOf(endOf(idx), c.w));
        var o = ops[b + 3];
        // Many operations inside one pixel: draw that pixel once per outcome.
        if (x1 - x0 < 1 && Math.floor(x0) === lastX && o === lastO) continue;
        lastX = Math.floor(x0); lastO = o;
        paths[o].rect(x0, y, Math.max(1, x1 - x0), h);
      }
    }
    for (var p = 0; p < 3; p++) { ctx.fillStyle = OUTCOME_COLORS[p]; ctx.fill(paths[p]); }
    outline(ctx, c.w, selectedOp, '#1d232b');
    outline(ctx, c.w, hoverOp, '#2060b0');
    tl.setAttribute('data-rendered', '1');
    tl.setAttribute('data-ops', String(nOps));
    tl.setAttribute('data-total-ops', String(T.total));
    tl.setAttribute('data-lanes', String(lanes.length));
  }
  tl.hoverChanged = function (h) { if (h !== hoverOp) { hoverOp = h; redraw(); } };
  interact(tl, opAt, describeOp, function (i) { selectOp(i, true); });
  drawers.push(drawTimeline);

  // ------------------------------------------------------------- nemesis --
  var nm = document.getElementById('nemesis-canvas');
  var NLANE = 22;
  function faultAt(mx, my, w) {
    var k = Math.floor((my - TOP) / NLANE);
    if (k < 0 || k >= T.kinds.length || mx < GUTTER) return -1;
    var t = tOf(mx, w), tol = 3 * (view.t1 - view.t0) / plotWidth(w);
    for (var i = 0; i < T.faults.length; i++) {
      var f = T.faults[i];
      if (f.kind === k && f.s - tol <= t && t <= f.e + tol) return i;
    }
    return -1;
  }
  function describeFault(i) {
    var f = T.faults[i];
    var text = T.kinds[f.kind].name + ' ' + fmtS(f.s) + ' – ' + fmtS(f.e) + ' (' + fmtDur(f.e - f.s) + ')';
    if (!f.healed) text += '\nno stop event: runs to the end of the history';
    if (f.detail) text += '\n' + f.detail;
    return text;
  }
  function drawNemesis() {
    var rows = Math.max(1, T.kinds.length);
    var c = setupCanvas(nm, TOP + rows * NLANE + 6);
    var ctx = c.ctx;
    drawAxis(c);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.font = '12px sans-serif';
    if (T.kinds.length === 0) {
      ctx.fillStyle = '#68717d';
      ctx.textAlign = 'left';
      ctx.fillText('no faults in this run', GUTTER + 8, TOP + NLANE / 2);
    }
    for (var k = 0; k < T.kinds.length; k++) {
      ctx.fillStyle = '#1d232b';
      ctx.fillText(T.kinds[k].name, GUTTER - 6, TOP + k * NLANE + NLANE / 2);
    }
    for (var i = 0; i < T.faults.length; i++) {
      var f = T.faults[i];
      if (f.e < view.t0 || f.s > view.t1) continue;
      var x0 = Math.max(GUTTER, xOf(f.s, c.w)), x1 = Math.min(c.w - RIGHT, xOf(f.e, c.w));
      var y = TOP + f.kind * NLANE + 3;
      ctx.globalAlpha = 0.8;
      ctx.fillStyle = T.kinds[f.kind].color;
      ctx.fillRect(x0, y, Math.max(2, x1 - x0), NLANE - 6);
      ctx.globalAlpha = 1;
      if (!f.healed) {
        ctx.setLineDash([4, 3]);
        ctx.strokeStyle = '#1d232b';
        ctx.lineWidth = 1;
        ctx.strokeRect(x0 + 0.5, y + 0.5, Math.max(2, x1 - x0) - 1, NLANE - 7);
        ctx.setLineDash([]);
      }
    }
    nm.setAttribute('data-rendered', '1');
  }
  interact(nm, faultAt, describeFault, function (i) {
    if (i >= 0) showLogsAround(T.faults[i].s, T.faults[i].e, true);
  });
  drawers.push(drawNemesis);

  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2); });
  document.getElementById('zoom-reset').addEventListener('click', function () { view.t0 = 0; view.t1 = full; redraw(); });
  window.addEventListener('resize', redraw);

  // ---------------------------------------------------------------- logs --
  var logTable = document.getElementById('log-table');
  var PAGE = 400;
  var logState = { filtered: [], start: 0, from: null, to: null, lower: null };
  var filterInput = document.getElementById('log-filter');
  var activeNodes = L.nodes.map(function () { return true; });

  function logTime(k) { var t = L.t[k]; return t === null ? -Infinity : t; }
  function applyLogFilter() {
    var q = filterInput.value.trim().toLowerCase();
    if (q && !logState.lower) logState.lower = L.x.map(function (s) { return s.toLowerCase(); });
    var out = [];
    for (var k = 0; k < L.x.length; k++) {
      if (!activeNodes[L.n[k]]) continue;
      if (q && logState.lower[k].indexOf(q) < 0 && !(L.lv[k] >= 0 && L.levels[L.lv[k]].toLowerCase() === q)) continue;
      out.push(k);
    }
    logState.filtered = out;
  }
  function cell(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function renderLogs() {
    var shown = [];
    for (var n = 0; n < L.nodes.length; n++) if (activeNodes[n]) shown.push(n);
    var head = document.createElement('tr');
    head.appendChild(cell('th', 't', 'time (s)'));
    shown.forEach(function (n) { head.appendChild(cell('th', 'node-col', L.nodes[n])); });
    logTable.tHead.replaceChildren(head);
    var rows = document.createDocumentFragment();
    var f = logState.filtered;
    var end = Math.min(f.length, logState.start + PAGE);
    var firstHit = null;
    for (var r = logState.start; r < end; r++) {
      var k = f[r], t = L.t[k];
      var tr = document.createElement('tr');
      tr.id = 'log-line-' + k;
      if (logState.from !== null && t !== null && t >= logState.from && t <= logState.to) {
        tr.className = 'hit';
        if (firstHit === null) firstHit = tr;
      }
      tr.appendChild(cell('td', 't', t === null ? '—' : (t / 1000).toFixed(3)));
      for (var s = 0; s < shown.length; s++) {
        var td = cell('td', 'node-cell');
        if (shown[s] === L.n[k]) {
          if (L.lv[k] >= 0) td.appendChild(cell('span', 'lv lv-' + L.levels[L.lv[k]], L.levels[L.lv[k]]));
          td.appendChild(document.createTextNode(' ' + L.x[k]));
        }
        tr.appendChild(td);
      }
      rows.appendChild(tr);
    }
    logTable.tBodies[0].replaceChildren(rows);
    var status = f.length === 0 ? 'no line matches' :
      'lines ' + (logState.start + 1) + '–' + end + ' of ' + f.length + ' matching (' + L.x.length +
      (L.total > L.x.length ? ' on this page of ' + L.total + ' lines' : ' in all') + ')';
    status += ' · times in seconds since ' + L.base;
    if (logState.from !== null) status += ' · highlighted: ' + fmtS(logState.from) + ' – ' + fmtS(logState.to);
    document.getElementById('log-status').textContent = status;
    logTable.setAttribute('data-rendered', '1');
    return firstHit;
  }
  // Shows the lines around [from, to] (ms since the run began), highlighted.
  function showLogsAround(from, to, scroll) {
    if (!logTable) return;
    logState.from = from;
    logState.to = to;
    var f = logState.filtered, lo = 0, hi = f.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (logTime(f[mid]) < from) lo = mid + 1; else hi = mid; }
    logState.start = Math.max(0, lo - 30);
    var hitRow = renderLogs();
    if (!scroll) return;
    document.getElementById('logs').scrollIntoView({ behavior: 'auto', block: 'start' });
    var target = hitRow || logTable.tBodies[0].rows[Math.min(lo - logState.start, logTable.tBodies[0].rows.length - 1)];
    var wrap = document.getElementById('log-wrap');
    if (target) wrap.scrollTop = Math.max(0, target.offsetTop - 60);
  }
  if (logTable) {
    var debounce = null;
    filterInput.addEventListener('input', function () {
      clearTimeout(debounce);
      debounce = setTimeout(function () { applyLogFilter(); logState.start = 0; renderLogs(); }, 150);
    });
    Array.prototype.forEach.call(document.querySelectorAll('#log-nodes input'), function (box) {
      box.addEventListener('change', function () {
        activeNodes[Number(box.value)] = box.checked;
        applyLogFilter();
        if (logState.from !== null) showLogsAround(logState.from, logState.to, false);
        else { logState.start = 0; renderLogs(); }
      });
    });
    document.getElementById('log-earlier').addEventListener('click', function () {
      logState.start = Math.max(0, logState.start - PAGE);
      renderLogs();
      document.getElementById('log-wrap').scrollTop = 0;
    });
    document.getElementById('log-later').addEventListener('click', function () {
      if (logState.start + PAGE < logState.filtered.length) logState.start += PAGE;
      renderLogs();
      document.getElementById('log-wrap').scrollTop = 0;
    });
    applyLogFilter();
    renderLogs();
  }
  Array.prototype.forEach.call(document.querySelectorAll('[data-log-from]'), function (el) {
    el.addEventListener('click', function () {
      showLogsAround(Number(el.getAttribute('data-log-from')), Number(el.getAttribute('data-log-to')), true);
    });
  });

  // `?op=N` in the address selects the operation invoked at history index
  // N and shows the node logs around it: a link to one operation.
  function selectOp(i, scroll) {
    selectedOp = i;
    redraw();
    var details = document.getElementById('op-details');
    if (i < 0) {
      details.textContent = 'Hover an operation to see it; click it to read the node logs around it.';
      return;
    }
    details.textContent = describeOp(i).replace(/\n/g, ' · ') + ' · link: ?op=' + ops[i * S + 7];
    showLogsAround(ops[i * S + 1], endOf(i), scroll);
  }
  var opParam = /[?&]op=(\d+)/.exec(window.location.search);
  if (opParam) {
    var found = false;
    for (var j = 0; j < nOps; j++) {
      if (ops[j * S + 7] === Number(opParam[1])) { selectOp(j, false); found = true; break; }
    }
    if (!found) {
      document.getElementById('op-details').textContent = 'No operation invoked at history index ' + opParam[1] +
        ' on this timeline' + (nOps < T.total ? ' (it holds ' + nOps + ' of the run\'s ' + T.total +
        ' operations); find it in history.csv' : '') + '.';
    }
  }
  drawAll();
  document.documentElement.setAttribute('data-report-ready', '1');
})();
