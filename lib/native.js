'use strict';
// The compiled addon: the platform package or local build the generated loader finds,
// with a clear error naming the supported platforms when none matches (lib/loader.js).
module.exports = require('./loader').binding;
