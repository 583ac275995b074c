'use strict';
// A route that keeps a record of every request in a module-level array: the leak a
// user would write by accident (a session log nobody trims).
const seen = [];

function rememberSession(req) {
  const record = { id: seen.length, at: Date.now(), url: req.url, agent: String(req.headers['user-agent']), note: Buffer.alloc(1500, 97 + (seen.length % 26)).toString('latin1') };
  seen.push(record);
  return record.id;
}

module.exports = (app) => {
  app.get('/sessions', function sessionsRoute(req, res) {
    const id = rememberSession(req);
    res.json({ id });
  });
};
