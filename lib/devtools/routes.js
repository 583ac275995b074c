'use strict';
// What lib/router.js needs from the developer tools, loaded on first use: requiring
// memwarden (or creating the router) does not load the dashboard, the report or the
// simulation code.
let dashboard = null;
let simulate = null;
const dash = () => dashboard || (dashboard = require('./dashboard'));
const sim = () => simulate || (simulate = require('./simulate'));

const FIELDS = ['mb', 'stepMs', 'holdMs', 'recoverMs'];

module.exports = {
  /** GET /dashboard. */
  dashboardHandler: () =>
    function memwardenDashboard(req, res) {
      return dash().dashboardHandler()(req, res);
    },
  /** The body of GET /live. */
  liveFor: (manager, req) => dash().liveFor(manager, req),
  /** The body fields of POST /simulate, for the router's checkBody(). */
  simulateFields: (manager) => Object.fromEntries(FIELDS.map((name) => [name, (x) => sim().simulateFields(manager)[name](x)])),
  /** POST /simulate's action. */
  startSimulation: (manager, body) => sim().startSimulation(manager, body),
};
