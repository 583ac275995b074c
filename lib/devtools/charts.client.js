// Browser code shared by the dashboard page and the HTML report (inlined into both):
// builds uPlot charts from memwarden's samples. Plain ES2019, no modules.
(function () {
  'use strict';
  var MB = 1048576;
  var COLORS = {
    rss: '#2563eb',
    heapUsed: '#16a34a',
    heapTotal: '#86efac',
    external: '#a855f7',
    limit: '#111827',
    warning: '#d97706',
    critical: '#dc2626',
    emergency: '#7e22ce',
    gc: '#0f766e',
    trend: '#ea580c',
    confidence: '#dc2626',
    minutes: '#2563eb',
  };

  /** Minutes as a short duration. */
  function duration(m) {
    if (m == null) return 'not approaching the limit';
    if (m < 1) return Math.max(1, Math.round(m * 60)) + ' s to the limit';
    if (m < 120) return m.toFixed(m < 10 ? 1 : 0) + ' min to the limit';
    if (m < 2880) return (m / 60).toFixed(1) + ' h to the limit';
    return (m / 1440).toFixed(0) + ' days to the limit';
  }

  function mb(v) {
    return v == null ? '–' : (v / MB).toFixed(v >= 100 * MB ? 0 : 1) + ' MB';
  }

  function size(el, height) {
    return { width: Math.max(280, Math.floor(el.clientWidth || 600)), height: height || 230 };
  }

  /** Rows keyed by time (ms) → aligned uPlot columns ([seconds], [col1], ...). */
  function align(rowsByTime, columns) {
    var times = Object.keys(rowsByTime)
      .map(Number)
      .sort(function (a, b) {
        return a - b;
      });
    var data = [times.map(function (t) {
      return t / 1000;
    })];
    columns.forEach(function (c) {
      data.push(
        times.map(function (t) {
          var row = rowsByTime[t];
          var v = row[c];
          return v === undefined ? null : v;
        }),
      );
    });
    return data;
  }

  /**
   * The memory chart's columns: resident, heap, limit and threshold lines, full GCs as
   * points at the heap left after them, and an optional leak trend line.
   */
  function memoryRows(samples, gcs, limitBytes, thresholds, trend) {
    var rows = {};
    samples.forEach(function (s) {
      rows[s.t] = { rss: s.rss, heapUsed: s.heapUsed };
    });
    gcs.forEach(function (g) {
      var r = rows[g.t] || (rows[g.t] = {});
      r.gc = g.heapAfter;
    });
    if (trend) {
      trend.forEach(function (p) {
        var r = rows[p.t] || (rows[p.t] = {});
        r.trend = p.v;
      });
    }
    Object.keys(rows).forEach(function (t) {
      var r = rows[t];
      r.limit = limitBytes;
      r.warning = (limitBytes * thresholds.warning) / 100;
      r.critical = (limitBytes * thresholds.critical) / 100;
      r.emergency = (limitBytes * thresholds.emergency) / 100;
    });
    return rows;
  }

  var MEMORY_COLUMNS = ['rss', 'heapUsed', 'gc', 'trend', 'limit', 'warning', 'critical', 'emergency'];

  function line(label, color, extra) {
    var s = { label: label, stroke: color, width: 2, spanGaps: true, points: { show: false }, value: function (u, v) {
      return mb(v);
    } };
    for (var k in extra || {}) s[k] = extra[k];
    return s;
  }

  function points(label, color, fmt) {
    return {
      label: label,
      stroke: color,
      fill: color,
      width: 0,
      paths: function () {
        return null;
      },
      points: { show: true, size: 9, stroke: color, fill: color },
      value: function (u, v) {
        return fmt(v);
      },
    };
  }

  /** Whether the limit dwarfs the data (then its lines start hidden: click the legend to show them). */
  function limitFar(samples, limitBytes) {
    var peak = 0;
    samples.forEach(function (s) {
      peak = Math.max(peak, s.rss || 0);
    });
    return peak > 0 && limitBytes > 4 * peak;
  }

  function memoryChart(el, samples, gcs, limitBytes, thresholds, trend) {
    var far = limitFar(samples, limitBytes);
    var opts = {
      title: far ? 'RSS and heap (the limit is far above: click it in the legend)' : 'Resident memory (RSS) and heap vs the limit',
      id: 'memwarden-memory-chart',
      class: 'memwarden-chart',
      scales: { x: { time: true } },
      series: [
        {},
        line('RSS', COLORS.rss),
        line('heap used', COLORS.heapUsed),
        points('full GC (heap after)', COLORS.gc, mb),
        line('leak trend', COLORS.trend, { dash: [6, 4], show: !!trend }),
        line('limit', COLORS.limit, { width: 2, show: !far }),
        line('warning', COLORS.warning, { width: 1, dash: [4, 4], show: !far }),
        line('critical', COLORS.critical, { width: 1, dash: [4, 4], show: !far }),
        line('emergency', COLORS.emergency, { width: 1, dash: [4, 4], show: !far }),
      ],
      axes: [{}, { size: 70, values: function (u, vals) {
        return vals.map(mb);
      } }],
    };
    var s = size(el);
    opts.width = s.width;
    opts.height = s.height;
    var data = align(memoryRows(samples, gcs, limitBytes, thresholds, trend), MEMORY_COLUMNS);
    return new uPlot(opts, data, el);
  }

  function heapChart(el, samples) {
    var rows = {};
    samples.forEach(function (s) {
      rows[s.t] = { heapUsed: s.heapUsed, heapTotal: s.heapTotal, external: s.external };
    });
    var s = size(el);
    return new uPlot(
      {
        title: 'V8 heap and external memory',
        id: 'memwarden-heap-chart',
        width: s.width,
        height: s.height,
        scales: { x: { time: true } },
        series: [{}, line('heap used', COLORS.heapUsed), line('heap total', COLORS.heapTotal), line('external (Buffers)', COLORS.external)],
        axes: [{}, { size: 70, values: function (u, vals) {
          return vals.map(mb);
        } }],
      },
      align(rows, ['heapUsed', 'heapTotal', 'external']),
      el,
    );
  }

  /** Empty rows at the first and last sample, so every chart spans the same time range. */
  function spanRows(samples) {
    var rows = {};
    if (samples && samples.length) {
      rows[samples[0].t] = {};
      rows[samples[samples.length - 1].t] = {};
    }
    return rows;
  }

  function gcChart(el, gcs, samples) {
    var rows = spanRows(samples);
    gcs.forEach(function (g) {
      rows[g.t] = { pause: g.durationMs };
    });
    var s = size(el, 180);
    return new uPlot(
      {
        title: 'Full GC pauses',
        id: 'memwarden-gc-chart',
        width: s.width,
        height: s.height,
        scales: { x: { time: true } },
        series: [{}, points('pause (ms)', COLORS.gc, function (v) {
          return v == null ? '–' : v.toFixed(1) + ' ms';
        })],
        axes: [{}, { size: 60, values: function (u, vals) {
          return vals.map(function (v) {
            return v + ' ms';
          });
        } }],
      },
      align(rows, ['pause']),
      el,
    );
  }

  /** points: [{ t, confidence, minutesToLimit }] */
  function leakChart(el, pts, samples) {
    var rows = spanRows(samples);
    pts.forEach(function (p) {
      rows[p.t] = { confidence: p.confidence, minutes: p.minutesToLimit == null ? null : Math.min(p.minutesToLimit, 1440) };
    });
    var s = size(el, 180);
    return new uPlot(
      {
        title: 'Leak confidence and time to the limit',
        id: 'memwarden-leak-chart',
        width: s.width,
        height: s.height,
        scales: { x: { time: true }, pct: { range: [0, 100] }, min: {} },
        series: [
          {},
          { label: 'leak confidence', stroke: COLORS.confidence, width: 2, scale: 'pct', spanGaps: true, points: { show: false }, value: function (u, v) {
            return v == null ? '–' : v.toFixed(0) + ' %';
          } },
          { label: 'minutes to limit', stroke: COLORS.minutes, width: 2, scale: 'min', spanGaps: true, points: { show: false }, value: function (u, v) {
            return v == null ? '–' : v.toFixed(1) + ' min';
          } },
        ],
        axes: [
          {},
          { scale: 'pct', size: 50, values: function (u, vals) {
            return vals.map(function (v) {
              return v + '%';
            });
          } },
          { scale: 'min', side: 1, size: 70, grid: { show: false }, values: function (u, vals) {
            return vals.map(function (v) {
              return (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + ' min';
            });
          } },
        ],
      },
      align(rows, ['confidence', 'minutes']),
      el,
    );
  }

  window.MemwardenCharts = {
    MB: MB,
    mb: mb,
    duration: duration,
    align: align,
    memoryRows: memoryRows,
    MEMORY_COLUMNS: MEMORY_COLUMNS,
    memoryChart: memoryChart,
    heapChart: heapChart,
    gcChart: gcChart,
    leakChart: leakChart,
    size: size,
    spanRows: spanRows,
  };
})();
