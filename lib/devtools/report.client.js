// The HTML report's script (inlined): reads the embedded report and draws it.
(function () {
  'use strict';
  var C = window.MemwardenCharts;
  var r = JSON.parse(document.getElementById('memwarden-data').textContent);
  var $ = function (id) {
    return document.getElementById(id);
  };
  function cell(tr, v) {
    var td = document.createElement('td');
    td.textContent = v == null ? '' : String(v);
    tr.appendChild(td);
  }
  function row(tbody, values) {
    var tr = document.createElement('tr');
    values.forEach(function (v) {
      cell(tr, v);
    });
    tbody.appendChild(tr);
  }
  function card(k, v, s) {
    var d = document.createElement('div');
    d.className = 'card';
    [['k', k], ['v', v], ['s', s]].forEach(function (p) {
      var e = document.createElement('div');
      e.className = p[0];
      e.textContent = p[1];
      d.appendChild(e);
    });
    $('cards').appendChild(d);
  }
  var u = r.currentUsage;
  $('status').textContent = r.status;
  $('status').className = 'pill ' + r.status;
  $('generated').textContent = new Date(r.generatedAt).toLocaleString() + ' · ' + (r.source.url || 'process ' + r.source.pid);
  card('Pressure', u.pressurePercentage.toFixed(1) + ' %', 'of the ' + u.pressureSource + ' limit');
  card('Resident (RSS)', C.mb(u.residentBytes), 'of ' + C.mb(u.limitBytes) + ' (' + u.limitSource + ')');
  card('Heap used', C.mb(u.heapUsed), 'of ' + C.mb(u.heapSizeLimit) + ' (V8 limit)');
  var g = r.trend.growthRateBytesPerSec;
  card('Growth', r.trend.enoughData && g != null ? ((g * 60) / C.MB).toFixed(1) + ' MB/min' : 'not enough data', C.duration(r.trend.minutesToLimit));
  card('Leak confidence', r.leak.confidence.toFixed(0) + ' %', r.leak.leakSuspected ? 'LEAK suspected (' + r.leak.signal + ')' : 'no leak suspected');
  card('GC', String(r.gcStats.totalCollections), r.gcStats.major + ' full · avg ' + (r.gcStats.averageDuration || 0).toFixed(1) + ' ms');
  var samples = r.history.samples;
  var gcs = r.history.gc;
  var trend = r.leakTrend ? r.leakTrend.points : null;
  window.memwardenCharts = [
    C.memoryChart($('chart-memory'), samples, gcs, u.limitBytes, r.thresholds, trend),
    C.heapChart($('chart-heap'), samples),
    C.gcChart($('chart-gc'), gcs, samples),
  ];
  var leak = r.leak;
  var lines = [
    (leak.leakSuspected ? 'Leak suspected in ' + leak.signal : 'No leak suspected') + ', confidence ' + leak.confidence.toFixed(0) + ' %' + (r.leakTrend ? '; trend ' + ((r.leakTrend.slopeBytesPerSec * 60) / C.MB).toFixed(2) + ' MB/min (' + r.leakTrend.signal + ', dashed line above)' : ''),
  ];
  (leak.recommendations || []).forEach(function (x) {
    lines.push(x);
  });
  if (leak.attribution && leak.attribution.sites) {
    leak.attribution.sites.slice(0, 5).forEach(function (s) {
      lines.push('site: ' + (s.functionName || '(anonymous)') + ' ' + s.url + ':' + s.lineNumber + ' +' + (s.growthBytesPerSec / 1024).toFixed(0) + ' KB/s');
    });
  }
  lines.forEach(function (l) {
    var p = document.createElement('div');
    p.textContent = l;
    $('leak').appendChild(p);
  });
  r.recommendations.forEach(function (x) {
    var li = document.createElement('li');
    li.textContent = x;
    $('recommendations').appendChild(li);
  });
  var alerts = (r.alerts && r.alerts.history) || [];
  if (alerts.length === 0) row($('alerts'), ['–', 'no alerts', '', '', '']);
  alerts.forEach(function (a) {
    row($('alerts'), [new Date(a.timestamp).toLocaleTimeString(), a.type, a.level, a.message, a.resolved ? 'resolved' : a.escalatedFrom ? 'escalated' : 'raised']);
  });
  var routes = r.requests && r.requests.routes ? r.requests.routes : [];
  if (routes.length === 0) row($('routes'), [r.requests ? 'no requests recorded' : 'per-route statistics are off (monitorRequestMemory())', '', '', '', '', '']);
  routes.forEach(function (x) {
    row($('routes'), [x.route, x.count, x.latencyMs.p50, x.latencyMs.p95, x.memory.meanHeapDeltaBytes == null ? '–' : C.mb(x.memory.meanHeapDeltaBytes), x.serverErrors]);
  });
  var c = r.cleanup || { strategies: [], last: null };
  $('cleanup').textContent =
    'strategies: ' + c.strategies.map(function (s) {
      return typeof s === 'string' ? s : s.name;
    }).join(', ') + (c.last ? ' · last run (' + c.last.reason + '): ' + c.last.actions.map(function (a) {
      return a.strategy + (a.success ? ' ok' : ' failed');
    }).join(', ') : ' · never run');
  document.body.setAttribute('data-rendered', 'true');
})();
