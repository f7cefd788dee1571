// The store index's script: sorts the runs table by the clicked column,
// using each cell's data-sort value (numeric columns compare as numbers).
(function () {
  'use strict';
  var table = document.getElementById('runs');
  if (!table) return;
  var headers = table.tHead.rows[0].cells;
  var current = { col: 0, dir: -1 };
  function value(row, col, numeric) {
    var v = row.cells[col] ? row.cells[col].getAttribute('data-sort') : '';
    if (!numeric) return (v || '').toLowerCase();
    var n = Number(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(col, dir) {
    var numeric = headers[col].getAttribute('data-type') === 'num';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length === headers.length; });
    rows.sort(function (a, b) {
      var x = value(a, col, numeric), y = value(b, col, numeric);
      return x < y ? -dir : x > y ? dir : 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < headers.length; i++) headers[i].className = '';
    headers[col].className = dir > 0 ? 'sorted-asc' : 'sorted-desc';
    current = { col: col, dir: dir };
    table.setAttribute('data-sorted', col + ':' + dir);
  }
  Array.prototype.forEach.call(headers, function (th, col) {
    th.addEventListener('click', function () {
      sortBy(col, current.col === col ? -current.dir : (col === 0 ? -1 : 1));
    });
  });
})();
