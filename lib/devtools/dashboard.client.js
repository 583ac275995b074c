// The dashboard page's script (served by GET /api/memory/dashboard, inlined). Polls
// GET ./live every second with the admin token typed into the page (kept in this tab's
// sessionStorage only), draws the charts, and posts ./gc and ./emergency-cleanup.
(function () {
  'use strict';
  var C = window.MemwardenCharts;
  var MB = C.MB;
  var base = location.pathname.replace(/\/dashboard\/?$/, '');
  var KEY = 'memwarden.adminToken';
  var token = '';
  try {
    token = sessionStorage.getItem(KEY) || '';
  } catch (e) {
    token = '';
  }
  var samples = {};
  var gcs = {};
  var leakPoints = {};
  var last = null;
  var charts = {};
  var since = null;
  var $ = function (id) {
    return document.getElementById(id);
  };

  function text(id, value) {
    $(id).textContent = value;
  }

  function say(msg, kind) {
    var m = $('message');
    m.textContent = msg;
    m.className = kind || '';
  }

  var minutes = C.duration;

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(base + '/' + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return null;
        })
        .then(function (json) {
          return { ok: res.ok, status: res.status, json: json };
        });
    });
  }

  function errorText(r) {
    var e = r.json && r.json.error;
    return 'HTTP ' + r.status + (e ? ' ' + e.code + ': ' + e.message : '');
  }

  function values(map) {
    return Object.keys(map)
      .map(Number)
      .sort(function (a, b) {
        return a - b;
      })
      .map(function (t) {
        return map[t];
      });
  }

  function trim(map, keep) {
    var keys = Object.keys(map);
    if (keys.length <= keep) return;
    keys
      .map(Number)
      .sort(function (a, b) {
        return a - b;
      })
      .slice(0, keys.length - keep)
      .forEach(function (k) {
        delete map[k];
      });
  }

  function draw() {
    var d = last;
    var ss = values(samples);
    var gg = values(gcs);
    var lp = values(leakPoints);
    var memData = C.align(C.memoryRows(ss, gg, d.limitBytes, d.thresholds, null), C.MEMORY_COLUMNS);
    var heapRows = {};
    ss.forEach(function (s) {
      heapRows[s.t] = { heapUsed: s.heapUsed, heapTotal: s.heapTotal, external: s.external };
    });
    var gcRows = C.spanRows(ss);
    gg.forEach(function (g) {
      gcRows[g.t] = { pause: g.durationMs };
    });
    var leakRows = C.spanRows(ss);
    lp.forEach(function (p) {
      leakRows[p.t] = { confidence: p.confidence, minutes: p.minutesToLimit == null ? null : Math.min(p.minutesToLimit, 1440) };
    });
    if (!charts.memory) {
      charts.memory = C.memoryChart($('chart-memory'), ss, gg, d.limitBytes, d.thresholds, null);
      charts.heap = C.heapChart($('chart-heap'), ss);
      charts.gc = C.gcChart($('chart-gc'), gg, ss);
      charts.leak = C.leakChart($('chart-leak'), lp, ss);
      window.addEventListener('resize', function () {
        ['memory', 'heap', 'gc', 'leak'].forEach(function (k) {
          var el = $('chart-' + k);
          charts[k].setSize(C.size(el, k === 'gc' || k === 'leak' ? 180 : 230));
        });
      });
    } else {
      charts.memory.setData(memData);
      charts.heap.setData(C.align(heapRows, ['heapUsed', 'heapTotal', 'external']));
      charts.gc.setData(C.align(gcRows, ['pause']));
      charts.leak.setData(C.align(leakRows, ['confidence', 'minutes']));
    }
    document.body.setAttribute('data-points', String(ss.length));
  }

  function render(d) {
    last = d;
    var st = $('status');
    st.textContent = d.status;
    st.className = 'pill ' + d.status;
    text('since', 'since ' + new Date(d.statusSince).toLocaleTimeString());
    text('pressure', d.pressurePercentage.toFixed(1) + ' %');
    var bar = $('pressure-bar');
    bar.style.width = Math.min(100, d.pressurePercentage).toFixed(1) + '%';
    bar.style.background = getComputedStyle(document.documentElement).getPropertyValue('--' + d.status);
    text('pressure-source', 'of the ' + d.pressureSource + ' limit · warning ' + d.thresholds.warning + ' / critical ' + d.thresholds.critical + ' / emergency ' + d.thresholds.emergency + ' %');
    text('rss', C.mb(d.residentBytes));
    text('limit', 'of ' + C.mb(d.limitBytes) + ' (' + d.limitSource + ') · ' + d.usagePercentage.toFixed(1) + ' %');
    text('heap', C.mb(d.heapUsed));
    text('heap-limit', 'of ' + C.mb(d.heapSizeLimit) + ' · ' + d.heapUsagePercentage.toFixed(1) + ' %');
    var g = d.trend.growthRateBytesPerSec;
    text('growth', d.trend.enoughData && g != null ? (g >= 0 ? '+' : '') + ((g * 60) / MB).toFixed(1) + ' MB/min' : 'collecting…');
    text('time-to-limit', minutes(d.leak.minutesToLimit != null ? d.leak.minutesToLimit : d.trend.minutesToLimit));
    text('leak', d.leak.confidence.toFixed(0) + ' %' + (d.leak.leakSuspected ? ' · LEAK' : ''));
    $('leak').style.color = d.leak.leakSuspected ? 'var(--critical)' : '';
    text('leak-detail', d.leak.leakSuspected ? 'suspected in ' + d.leak.signal + (d.leak.attributionRunning ? ' · finding the site…' : '') : 'no leak suspected');
    text('gcs', String(d.gcStats.totalCollections));
    text(
      'gc-detail',
      d.gcStats.major + ' full · avg ' + (d.gcStats.averageDuration || 0).toFixed(1) + ' ms · ' + (d.gcStats.pauseTimePercent || 0).toFixed(2) + ' % paused' + (d.gcAvailable ? '' : ' · no --expose-gc'),
    );
    var sites = $('sites');
    sites.textContent = '';
    $('sites-section').hidden = d.leak.sites.length === 0;
    d.leak.sites.forEach(function (s) {
      var tr = document.createElement('tr');
      [s.functionName || '(anonymous)', s.url + ':' + s.lineNumber, '+' + (s.growthBytesPerSec / 1024).toFixed(0) + ' KB/s'].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      });
      sites.appendChild(tr);
    });
    var alerts = $('alerts');
    var activeIds = {};
    d.alerts.active.forEach(function (a) {
      activeIds[a.id] = true;
    });
    // The history holds raised, escalated and resolved records, newest last.
    var rows = d.alerts.history
      .slice()
      .reverse()
      .slice(0, 15)
      .map(function (a) {
        return [a, a.resolved ? 'resolved' : activeIds[a.id] ? 'active' : 'raised'];
      });
    alerts.textContent = '';
    if (rows.length === 0) {
      var tr0 = document.createElement('tr');
      var td0 = document.createElement('td');
      td0.colSpan = 5;
      td0.className = 'muted';
      td0.textContent = 'none yet';
      tr0.appendChild(td0);
      alerts.appendChild(tr0);
    }
    rows.forEach(function (pair) {
      var a = pair[0];
      var tr = document.createElement('tr');
      [new Date(a.timestamp || a.raisedAt || d.timestamp).toLocaleTimeString(), a.type, a.level, a.message, pair[1]].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v == null ? '' : String(v);
        tr.appendChild(td);
      });
      alerts.appendChild(tr);
    });
    var recs = $('recommendations');
    recs.textContent = '';
    d.recommendations.forEach(function (r) {
      var li = document.createElement('li');
      li.textContent = r;
      recs.appendChild(li);
    });
    var c = d.cleanup;
    text(
      'cleanup-info',
      'strategies: ' + c.strategies.join(', ') + (c.last ? ' · last run ' + new Date(c.last.timestamp).toLocaleTimeString() + ' (' + c.last.reason + '): ' + c.last.actions.map(function (a) {
        return a.strategy + (a.success ? ' ok' : ' failed');
      }).join(', ') : ' · not run yet'),
    );
    var sim = d.simulation;
    text(
      'simulation',
      sim
        ? 'pressure simulation (memory simulate): ' + sim.phase + (sim.phase === 'allocating' ? ' ' + C.mb(sim.allocatedBytes) + ' of ' + C.mb(sim.targetBytes) : '') +
            ', peak ' + (sim.peakStatus || '–') + ', ' + sim.transitions.length + ' transition(s), ' + sim.alerts.length + ' alert(s)' + (sim.recovered === true ? ', recovered' : sim.recovered === false ? ', not recovered' : '')
        : '',
    );
    text('footer', d.platform + ' · sampled every ' + d.intervalMs + ' ms · ' + Object.keys(samples).length + ' samples on the charts · updated ' + new Date(d.timestamp).toLocaleTimeString());
  }

  // One poll loop at a time; it pauses on 401/403 until a (new) token is typed, so a page
  // without the token it needs does not ask again every second.
  var polling = false;
  var paused = false;

  function poll() {
    polling = true;
    api('GET', 'live' + (since === null ? '' : '?since=' + since))
      .then(function (r) {
        if (!r.ok) {
          if (r.status === 401 || r.status === 403) {
            paused = true;
            say((token ? 'The token was refused' : 'This server needs the admin token to show its figures') + ': type MEMORY_ADMIN_TOKEN above. (' + errorText(r) + ')', 'error');
          } else say('Could not read the figures: ' + errorText(r), 'error');
          return;
        }
        var d = r.json;
        if ($('message').className === 'error') say('');
        d.samples.forEach(function (s) {
          samples[s.t] = s;
        });
        d.gc.forEach(function (g) {
          gcs[g.t] = g;
        });
        leakPoints[d.timestamp] = { t: d.timestamp, confidence: d.leak.confidence, minutesToLimit: d.leak.minutesToLimit != null ? d.leak.minutesToLimit : d.trend.minutesToLimit };
        trim(samples, 3600);
        trim(gcs, 500);
        trim(leakPoints, 3600);
        var newest = d.samples.length ? d.samples[d.samples.length - 1].t : since;
        since = newest == null ? null : newest - 5000;
        render(d);
        draw();
      })
      .catch(function (err) {
        say('The server did not answer: ' + err.message, 'error');
      })
      .then(function () {
        if (paused) polling = false;
        else setTimeout(poll, 1000);
      });
  }

  function action(path, body, describe) {
    say('Running ' + path + '…');
    api('POST', path, body)
      .then(function (r) {
        if (!r.ok) return say(path + ' refused: ' + errorText(r), 'error');
        say(describe(r.json), 'ok');
      })
      .catch(function (err) {
        say(path + ' failed: ' + err.message, 'error');
      });
  }

  $('token').value = token;
  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = $('token').value.trim();
    try {
      if (token) sessionStorage.setItem(KEY, token);
      else sessionStorage.removeItem(KEY);
    } catch (e) {
      /* storage unavailable: the token lives in this page only */
    }
    say(token ? 'Token set for this tab.' : 'Token cleared.', 'ok');
    paused = false;
    if (!polling) poll();
  });
  $('gc').addEventListener('click', function () {
    action('gc', { reason: 'dashboard' }, function (a) {
      return a.success ? 'GC done in ' + a.durationMs.toFixed(1) + ' ms, freed ' + C.mb(a.freedBytes) : 'GC not run: ' + (a.error || a.reason);
    });
  });
  $('cleanup').addEventListener('click', function () {
    action('emergency-cleanup', { reason: 'dashboard', force: true }, function (r) {
      return 'Cleanup ran ' + r.actions.length + ' strategies: ' + r.actions.map(function (a) {
        return a.strategy + (a.success ? ' ok' : ' failed');
      }).join(', ');
    });
  });
  poll();
})();
